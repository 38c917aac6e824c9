//! The protocol's keywords and lists of them: pseudowire types, framing and bearer
//! capabilities, the L2TP version.

use super::base::{
    Res, Values, err, keyword_item, list, mismatch, number_item, one_of, parse_u64, single,
};
use crate::suggest::hint;
use crate::syntax::Item;
use crate::value::{Bearer, BearerCaps, Framing, FramingCaps, L2tpVersion, PseudowireType};

const PW_WHAT: &str = "one of `ppp`, `eth` or `eth_vlan`, or a pseudowire type number";

pub(crate) fn pseudowire_type(v: Values<'_>) -> Res<PseudowireType> {
    pseudowire_type_item(single(v, PW_WHAT)?)
}

/// One or more pseudowire types (`pseudowire_types`).
pub(crate) fn pseudowire_types(v: Values<'_>) -> Res<Vec<PseudowireType>> {
    list(v, PW_WHAT)?.iter().map(pseudowire_type_item).collect()
}

fn pseudowire_type_item(item: &Item) -> Res<PseudowireType> {
    match item.text.as_str() {
        "ppp" => Ok(PseudowireType::Ppp),
        "eth" => Ok(PseudowireType::Eth),
        "eth_vlan" => Ok(PseudowireType::EthVlan),
        t if parse_u64(t).is_some() => {
            number_item(item, 1, 0x7fff).map(|n| PseudowireType::from_number(n as u16))
        }
        t => err(
            item.span,
            format!(
                "expected {PW_WHAT}, found `{t}`{}",
                hint(t, ["ppp", "eth", "eth_vlan"])
            ),
        ),
    }
}

pub(crate) fn framing_caps(v: Values<'_>) -> Res<FramingCaps> {
    let what = format!(
        "one or more of {}",
        one_of::<Framing>().trim_start_matches("one of ")
    );
    let mut caps = FramingCaps {
        sync: false,
        async_: false,
    };
    for item in list(v, &what)? {
        match keyword_item::<Framing>(item, &what)? {
            Framing::Sync => caps.sync = true,
            Framing::Async => caps.async_ = true,
            Framing::Any => {
                caps = FramingCaps {
                    sync: true,
                    async_: true,
                }
            }
        }
    }
    Ok(caps)
}

pub(crate) fn bearer_caps(v: Values<'_>) -> Res<BearerCaps> {
    let what = format!(
        "one or more of {}",
        one_of::<Bearer>().trim_start_matches("one of ")
    );
    let mut caps = BearerCaps {
        digital: false,
        analog: false,
    };
    for item in list(v, &what)? {
        match keyword_item::<Bearer>(item, &what)? {
            Bearer::Digital => caps.digital = true,
            Bearer::Analog => caps.analog = true,
            Bearer::Any => {
                caps = BearerCaps {
                    digital: true,
                    analog: true,
                }
            }
        }
    }
    Ok(caps)
}

pub(crate) fn version(v: Values<'_>) -> Res<L2tpVersion> {
    let item = single(v, "an L2TP version (2 or 3)")?;
    match parse_u64(&item.text) {
        Some(2) => Ok(L2tpVersion::V2),
        Some(3) => Ok(L2tpVersion::V3),
        Some(_) => err(
            item.span,
            format!(
                "value `{}` is out of range: the L2TP version is 2 or 3",
                item.text
            ),
        ),
        None => mismatch(item, "an L2TP version (2 or 3)"),
    }
}
