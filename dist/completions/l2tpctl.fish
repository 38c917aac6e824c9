# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_l2tpctl_global_optspecs
    string join \n S= j/json h/help V/version
end

function __fish_l2tpctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_l2tpctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_l2tpctl_using_subcommand
    set -l cmd (__fish_l2tpctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c l2tpctl -n "__fish_l2tpctl_needs_command" -s S -d 'The daemon\'s control socket' -r -F
complete -c l2tpctl -n "__fish_l2tpctl_needs_command" -s j -l json -d 'Print JSON instead of text'
complete -c l2tpctl -n "__fish_l2tpctl_needs_command" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_needs_command" -s V -l version -d 'Print version'
complete -c l2tpctl -n "__fish_l2tpctl_needs_command" -f -a "show" -d 'Show the daemon, tunnels, sessions, profiles, address pools or RADIUS'
complete -c l2tpctl -n "__fish_l2tpctl_needs_command" -f -a "create" -d 'Create a tunnel or a session'
complete -c l2tpctl -n "__fish_l2tpctl_needs_command" -f -a "delete" -d 'Delete a tunnel or a session'
complete -c l2tpctl -n "__fish_l2tpctl_needs_command" -f -a "reload" -d 'Re-read the config file'
complete -c l2tpctl -n "__fish_l2tpctl_needs_command" -f -a "disconnect" -d 'End the native-PPP sessions of a user, or the one holding an address'
complete -c l2tpctl -n "__fish_l2tpctl_needs_command" -f -a "request" -d 'Ask the LAC for something (RFC 5515 connect speeds)'
complete -c l2tpctl -n "__fish_l2tpctl_needs_command" -f -a "debug" -d 'Switch protocol tracing of a tunnel or session on or off'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and not __fish_seen_subcommand_from system tunnels tunnel sessions session peer pseudowire ppp ip radius" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and not __fish_seen_subcommand_from system tunnels tunnel sessions session peer pseudowire ppp ip radius" -f -a "system" -d 'The daemon and its counters'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and not __fish_seen_subcommand_from system tunnels tunnel sessions session peer pseudowire ppp ip radius" -f -a "tunnels" -d 'Every tunnel, or those in a state, up to a limit'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and not __fish_seen_subcommand_from system tunnels tunnel sessions session peer pseudowire ppp ip radius" -f -a "tunnel" -d 'One tunnel, or the tunnel profiles'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and not __fish_seen_subcommand_from system tunnels tunnel sessions session peer pseudowire ppp ip radius" -f -a "sessions" -d 'Every session, or those of one tunnel, in a state, up to a limit'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and not __fish_seen_subcommand_from system tunnels tunnel sessions session peer pseudowire ppp ip radius" -f -a "session" -d 'One session, or the session profiles'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and not __fish_seen_subcommand_from system tunnels tunnel sessions session peer pseudowire ppp ip radius" -f -a "peer" -d 'The peer profiles'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and not __fish_seen_subcommand_from system tunnels tunnel sessions session peer pseudowire ppp ip radius" -f -a "pseudowire" -d 'The pseudowire profiles'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and not __fish_seen_subcommand_from system tunnels tunnel sessions session peer pseudowire ppp ip radius" -f -a "ppp" -d 'The PPP profiles'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and not __fish_seen_subcommand_from system tunnels tunnel sessions session peer pseudowire ppp ip radius" -f -a "ip" -d 'The address pools'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and not __fish_seen_subcommand_from system tunnels tunnel sessions session peer pseudowire ppp ip radius" -f -a "radius" -d 'The RADIUS servers, their state and counters, and dynamic authorization'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from system" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from tunnels" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from tunnel" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from tunnel" -a "profiles" -d 'List the tunnel profiles'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from tunnel" -a "profile" -d 'Show a tunnel profile'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from sessions" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from session" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from session" -a "profiles" -d 'List the session profiles'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from session" -a "profile" -d 'Show a session profile'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from peer" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from peer" -f -a "profiles" -d 'List the peer profiles'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from peer" -f -a "profile" -d 'Show a peer profile'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from pseudowire" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from pseudowire" -f -a "profiles" -d 'List the pseudowire profiles'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from pseudowire" -f -a "profile" -d 'Show a pseudowire profile'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from ppp" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from ppp" -f -a "profiles" -d 'List the PPP profiles'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from ppp" -f -a "profile" -d 'Show a PPP profile'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from ip" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from ip" -f -a "pools" -d 'List the address pools'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from ip" -f -a "pool" -d 'Show an address pool'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand show; and __fish_seen_subcommand_from radius" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand create; and not __fish_seen_subcommand_from tunnel session" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand create; and not __fish_seen_subcommand_from tunnel session" -f -a "tunnel" -d 'Create a tunnel instance'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand create; and not __fish_seen_subcommand_from tunnel session" -f -a "session" -d 'Create a session instance in a tunnel'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand create; and __fish_seen_subcommand_from tunnel" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand create; and __fish_seen_subcommand_from session" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand delete; and not __fish_seen_subcommand_from tunnel session" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand delete; and not __fish_seen_subcommand_from tunnel session" -f -a "tunnel"
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand delete; and not __fish_seen_subcommand_from tunnel session" -f -a "session"
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand delete; and __fish_seen_subcommand_from tunnel" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand delete; and __fish_seen_subcommand_from session" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand reload" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand disconnect; and not __fish_seen_subcommand_from user address" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand disconnect; and not __fish_seen_subcommand_from user address" -f -a "user"
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand disconnect; and not __fish_seen_subcommand_from user address" -f -a "address"
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand disconnect; and __fish_seen_subcommand_from user" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand disconnect; and __fish_seen_subcommand_from address" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand request; and not __fish_seen_subcommand_from speeds" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand request; and not __fish_seen_subcommand_from speeds" -f -a "speeds" -d 'Send a CSURQ for a session, or all enabled sessions of a tunnel'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand request; and __fish_seen_subcommand_from speeds" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand debug; and not __fish_seen_subcommand_from tunnel session" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand debug; and not __fish_seen_subcommand_from tunnel session" -f -a "tunnel"
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand debug; and not __fish_seen_subcommand_from tunnel session" -f -a "session"
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand debug; and __fish_seen_subcommand_from tunnel" -s h -l help -d 'Print help'
complete -c l2tpctl -n "__fish_l2tpctl_using_subcommand debug; and __fish_seen_subcommand_from session" -s h -l help -d 'Print help'
