//! What every conversion shares (the values of a line, the error of one that does not fit,
//! one value or a list, numbers and keywords), and the text, path, name and byte values.

use std::path::PathBuf;

use crate::span::Span;
use crate::suggest::hint;
use crate::syntax::Item;
use crate::value::{Keyword, Secret, TextOrBytes};

/// The values of one `key value...` line.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Values<'a> {
    pub(crate) key: &'a Item,
    pub(crate) values: &'a [Item],
}

/// A value that does not fit its parameter.
#[derive(Debug)]
pub(crate) struct ValueError {
    pub(crate) span: Span,
    pub(crate) message: String,
}

pub(crate) type Res<T> = Result<T, ValueError>;

pub(super) fn err<T>(span: Span, message: impl Into<String>) -> Res<T> {
    Err(ValueError {
        span,
        message: message.into(),
    })
}

pub(super) fn mismatch<T>(item: &Item, what: &str) -> Res<T> {
    err(item.span, format!("expected {what}, found `{}`", item.text))
}

/// The one value of a single-valued parameter.
pub(super) fn single<'a>(v: Values<'a>, what: &str) -> Res<&'a Item> {
    match v.values {
        [one] => Ok(one),
        [] => err(
            v.key.span,
            format!("missing value for `{}`: expected {what}", v.key.text),
        ),
        [_, rest @ ..] => {
            let span = match (rest.first(), rest.last()) {
                (Some(a), Some(b)) => a.span.to(b.span),
                _ => v.key.span,
            };
            err(
                span,
                format!(
                    "`{}` takes a single value ({what}), found {} values",
                    v.key.text,
                    v.values.len()
                ),
            )
        }
    }
}

/// At least one value of a list parameter.
pub(super) fn list<'a>(v: Values<'a>, what: &str) -> Res<&'a [Item]> {
    if v.values.is_empty() {
        return err(
            v.key.span,
            format!("missing value for `{}`: expected {what}", v.key.text),
        );
    }
    Ok(v.values)
}

pub(crate) fn boolean(v: Values<'_>) -> Res<bool> {
    const WHAT: &str = "a boolean (true or false)";
    let item = single(v, WHAT)?;
    match item.text.as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => mismatch(item, WHAT),
    }
}

pub(super) fn parse_u64(text: &str) -> Option<u64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None if text.bytes().all(|b| b.is_ascii_digit()) => text.parse().ok(),
        None => None,
    }
}

pub(super) fn number_item(item: &Item, min: u64, max: u64) -> Res<u64> {
    let Some(n) = parse_u64(&item.text) else {
        // A negative number, or one too long for any parameter: the range says what fits.
        let digits = match item
            .text
            .strip_prefix("0x")
            .or_else(|| item.text.strip_prefix("0X"))
        {
            Some(hex) => !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            None => !item.text.is_empty() && item.text.bytes().all(|b| b.is_ascii_digit()),
        };
        if digits {
            return err(
                item.span,
                format!(
                    "value `{}` is out of range: expected a number from {min} to {max}",
                    item.text
                ),
            );
        }
        if item.text.starts_with('-') {
            return err(
                item.span,
                format!(
                    "expected a number from {min} to {max}, found `{}`",
                    item.text
                ),
            );
        }
        return mismatch(item, "a number");
    };
    if n < min || n > max {
        return err(
            item.span,
            format!(
                "value `{}` is out of range: expected a number from {min} to {max}",
                item.text
            ),
        );
    }
    Ok(n)
}

/// A number in `min..=max`, decimal or `0x` hex.
pub(crate) fn number<T: TryFrom<u64>>(min: u64, max: u64) -> impl Fn(Values<'_>) -> Res<T> {
    move |v| {
        let item = single(v, "a number")?;
        let n = number_item(item, min, max)?;
        T::try_from(n).or_else(|_| mismatch(item, "a smaller number"))
    }
}

pub(crate) fn keyword<K: Keyword>(v: Values<'_>) -> Res<K> {
    let what = one_of::<K>();
    let item = single(v, &what)?;
    keyword_item(item, &what)
}

pub(super) fn keyword_item<K: Keyword>(item: &Item, what: &str) -> Res<K> {
    match K::KEYWORDS.iter().find(|(kw, _)| *kw == item.text) {
        Some(&(_, k)) => Ok(k),
        None => err(
            item.span,
            format!(
                "expected {what}, found `{}`{}",
                item.text,
                hint(&item.text, K::KEYWORDS.iter().map(|(kw, _)| *kw))
            ),
        ),
    }
}

pub(super) fn one_of<K: Keyword>() -> String {
    let names: Vec<String> = K::KEYWORDS
        .iter()
        .map(|(kw, _)| format!("`{kw}`"))
        .collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("one of {} or {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

/// Any string or word.
pub(crate) fn text(v: Values<'_>) -> Res<String> {
    let item = single(v, "a string")?;
    Ok(item.text.clone())
}

/// An Access Line identifier: a string of 2 to 63 octets (RFC 5515 §5.1, §5.2).
pub(crate) fn access_line_id(v: Values<'_>) -> Res<String> {
    let item = single(v, "a string of 2 to 63 octets")?;
    if !(2..=63).contains(&item.text.len()) {
        return err(
            item.span,
            format!(
                "an Access Line identifier has 2 to 63 octets (RFC 5515), this one {}",
                item.text.len()
            ),
        );
    }
    Ok(item.text.clone())
}

/// A non-empty string or word, e.g. a name.
pub(crate) fn name(v: Values<'_>) -> Res<String> {
    let item = single(v, "a name")?;
    if item.text.is_empty() {
        return err(item.span, "expected a name, found an empty string");
    }
    Ok(item.text.clone())
}

/// A list of strings or words, e.g. pppd options.
pub(crate) fn strings(v: Values<'_>) -> Res<Vec<String>> {
    Ok(list(v, "one or more strings")?
        .iter()
        .map(|i| i.text.clone())
        .collect())
}

/// An absolute file system path.
pub(crate) fn path(v: Values<'_>) -> Res<PathBuf> {
    let item = single(v, "an absolute path")?;
    if !item.text.starts_with('/') {
        return mismatch(item, "an absolute path (starting with `/`)");
    }
    Ok(PathBuf::from(&item.text))
}

/// A network interface name or `%d` template.
pub(crate) fn interface_name(v: Values<'_>) -> Res<String> {
    let item = single(v, "an interface name")?;
    let t = &item.text;
    let problem = if t.is_empty() {
        Some("it is empty")
    } else if t.len() > 15 {
        Some("Linux interface names have at most 15 characters")
    } else if t == "." || t == ".." || t.contains(['/', ':']) || t.contains(char::is_whitespace) {
        Some("it may not contain `/`, `:` or white space, nor be `.` or `..`")
    } else if t.matches('%').count() > 1 || (t.contains('%') && !t.contains("%d")) {
        Some("the only template allowed is a single `%d`")
    } else {
        None
    };
    match problem {
        Some(p) => err(item.span, format!("invalid interface name `{t}`: {p}")),
        None => Ok(t.clone()),
    }
}

/// A network interface name, without a `%d` template.
pub(crate) fn fixed_interface_name(v: Values<'_>) -> Res<String> {
    let name = interface_name(v)?;
    if name.contains('%') {
        let item = single(v, "an interface name")?;
        return err(
            item.span,
            format!("invalid interface name `{name}`: one device, so no `%d` template"),
        );
    }
    Ok(name)
}

fn hex_item(item: &Item) -> Option<Res<Vec<u8>>> {
    if item.quoted {
        return None;
    }
    // `HEX:a1b2` would otherwise be the text of a secret that matches no peer's.
    if let Some(prefix) = item.text.get(..4)
        && prefix.eq_ignore_ascii_case("hex:")
        && prefix != "hex:"
    {
        return Some(err(
            item.span,
            format!(
                "`{prefix}` is not `hex:`: write `hex:` in lower case for bytes, or put the value \
                 in quotes for text"
            ),
        ));
    }
    let digits = item.text.strip_prefix("hex:")?;
    let bad = || {
        err(
            item.span,
            format!(
                "invalid hex value `{}`: expected an even number of hex digits after `hex:`",
                item.text
            ),
        )
    };
    if digits.is_empty() || digits.len() % 2 != 0 || !digits.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Some(bad());
    }
    Some(Ok((0..digits.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&digits[i..i + 2], 16).ok())
        .collect()))
}

/// A cookie: `hex:` with 4 or 8 bytes.
pub(crate) fn cookie(v: Values<'_>) -> Res<Vec<u8>> {
    const WHAT: &str = "a 4- or 8-byte hex value (`hex:0123456789abcdef`)";
    let item = single(v, WHAT)?;
    if item.quoted && item.text.starts_with("hex:") {
        return err(
            item.span,
            format!(
                "`\"{}\"` is quoted, so it is text: write the hex value without quotes (`{}`)",
                item.text, item.text
            ),
        );
    }
    let bytes = hex_item(item).unwrap_or_else(|| mismatch(item, WHAT))?;
    if bytes.len() != 4 && bytes.len() != 8 {
        return err(
            item.span,
            format!("a cookie is 4 or 8 bytes long, found {} bytes", bytes.len()),
        );
    }
    Ok(bytes)
}

/// A string or `hex:` value.
pub(crate) fn text_or_bytes(v: Values<'_>) -> Res<TextOrBytes> {
    let item = single(v, "a string or a hex value (`hex:a1b2`)")?;
    match hex_item(item) {
        Some(bytes) => bytes.map(TextOrBytes::Bytes),
        None => Ok(TextOrBytes::Text(item.text.clone())),
    }
}

/// A shared secret: a non-empty string or `hex:` value.
pub(crate) fn secret(v: Values<'_>) -> Res<Secret> {
    let item = single(v, "a string or a hex value (`hex:a1b2`)")?;
    let value = text_or_bytes(v)?;
    if value.as_bytes().is_empty() {
        return err(item.span, "the secret is empty");
    }
    Ok(Secret::new(value.as_bytes()))
}

/// `cookie_length`: 0, 4 or 8.
pub(crate) fn cookie_length(v: Values<'_>) -> Res<u8> {
    let item = single(v, "0, 4 or 8")?;
    match parse_u64(&item.text) {
        Some(n @ (0 | 4 | 8)) => Ok(n as u8),
        Some(_) => err(
            item.span,
            format!(
                "value `{}` is out of range: cookie length must be 0, 4 or 8",
                item.text
            ),
        ),
        None => mismatch(item, "a cookie length (0, 4 or 8)"),
    }
}
