//! Fast, deterministic tests of the engine: engines driven with virtual time, a seeded RNG and
//! no data plane (its requests are answered as the `none` data plane answers them).

mod access_line;
mod down_logs;
mod dynauth;
mod echo_probe;
mod failover;
mod figures;
mod harness;
mod hostile_text;
mod limits;
mod logs;
mod ppp;
mod ppp_auth;
mod ppp_clients;
mod ppp_goodbye;
mod ppp_hostile;
mod ppp_mtu;
mod ppp_proxy;
mod ppp_timers;
mod pw_types;
mod radius;
mod radius_accept;
mod radius_reauth;
mod reload;
mod reload_lines;
mod reload_refused;
mod relogin;
mod remote_end;
mod restart;
mod restart_probe;
mod scenarios;
mod shutdown;
mod speed_update;
mod speed_update_lac;
mod tamper;
mod views;
