complete -c l2tpwatch -s S -d 'The daemon\'s control socket' -r -F
complete -c l2tpwatch -s n -d 'Exit after this many events' -r
complete -c l2tpwatch -s T -d 'Exit after this many seconds' -r
complete -c l2tpwatch -s t -d 'Tunnel events to show: a comma list of created,up,down,deleted (default all)' -r
complete -c l2tpwatch -s s -d 'Session events to show: a comma list of created,up,down,deleted (default all)' -r
complete -c l2tpwatch -s P -d 'PPP events of native-PPP sessions to show: a comma list of up,down (default both)' -r
complete -c l2tpwatch -s v -d 'Verbose: protocol version, encapsulation and peer of tunnels; pseudowire type and interface of sessions'
complete -c l2tpwatch -s p -d 'Prefix each line with a timestamp (UTC)'
complete -c l2tpwatch -s c -d 'Print CSV: a header line, then one line per event'
complete -c l2tpwatch -s h -l help -d 'Print help'
complete -c l2tpwatch -s V -l version -d 'Print version'
