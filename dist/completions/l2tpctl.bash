_l2tpctl() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="l2tpctl"
                ;;
            l2tpctl,create)
                cmd="l2tpctl__subcmd__create"
                ;;
            l2tpctl,debug)
                cmd="l2tpctl__subcmd__debug"
                ;;
            l2tpctl,delete)
                cmd="l2tpctl__subcmd__delete"
                ;;
            l2tpctl,disconnect)
                cmd="l2tpctl__subcmd__disconnect"
                ;;
            l2tpctl,reload)
                cmd="l2tpctl__subcmd__reload"
                ;;
            l2tpctl,request)
                cmd="l2tpctl__subcmd__request"
                ;;
            l2tpctl,show)
                cmd="l2tpctl__subcmd__show"
                ;;
            l2tpctl__subcmd__create,session)
                cmd="l2tpctl__subcmd__create__subcmd__session"
                ;;
            l2tpctl__subcmd__create,tunnel)
                cmd="l2tpctl__subcmd__create__subcmd__tunnel"
                ;;
            l2tpctl__subcmd__debug,session)
                cmd="l2tpctl__subcmd__debug__subcmd__session"
                ;;
            l2tpctl__subcmd__debug,tunnel)
                cmd="l2tpctl__subcmd__debug__subcmd__tunnel"
                ;;
            l2tpctl__subcmd__delete,session)
                cmd="l2tpctl__subcmd__delete__subcmd__session"
                ;;
            l2tpctl__subcmd__delete,tunnel)
                cmd="l2tpctl__subcmd__delete__subcmd__tunnel"
                ;;
            l2tpctl__subcmd__disconnect,address)
                cmd="l2tpctl__subcmd__disconnect__subcmd__address"
                ;;
            l2tpctl__subcmd__disconnect,user)
                cmd="l2tpctl__subcmd__disconnect__subcmd__user"
                ;;
            l2tpctl__subcmd__request,speeds)
                cmd="l2tpctl__subcmd__request__subcmd__speeds"
                ;;
            l2tpctl__subcmd__show,ip)
                cmd="l2tpctl__subcmd__show__subcmd__ip"
                ;;
            l2tpctl__subcmd__show,peer)
                cmd="l2tpctl__subcmd__show__subcmd__peer"
                ;;
            l2tpctl__subcmd__show,ppp)
                cmd="l2tpctl__subcmd__show__subcmd__ppp"
                ;;
            l2tpctl__subcmd__show,pseudowire)
                cmd="l2tpctl__subcmd__show__subcmd__pseudowire"
                ;;
            l2tpctl__subcmd__show,radius)
                cmd="l2tpctl__subcmd__show__subcmd__radius"
                ;;
            l2tpctl__subcmd__show,session)
                cmd="l2tpctl__subcmd__show__subcmd__session"
                ;;
            l2tpctl__subcmd__show,sessions)
                cmd="l2tpctl__subcmd__show__subcmd__sessions"
                ;;
            l2tpctl__subcmd__show,system)
                cmd="l2tpctl__subcmd__show__subcmd__system"
                ;;
            l2tpctl__subcmd__show,tunnel)
                cmd="l2tpctl__subcmd__show__subcmd__tunnel"
                ;;
            l2tpctl__subcmd__show,tunnels)
                cmd="l2tpctl__subcmd__show__subcmd__tunnels"
                ;;
            l2tpctl__subcmd__show__subcmd__ip,pool)
                cmd="l2tpctl__subcmd__show__subcmd__ip__subcmd__pool"
                ;;
            l2tpctl__subcmd__show__subcmd__ip,pools)
                cmd="l2tpctl__subcmd__show__subcmd__ip__subcmd__pools"
                ;;
            l2tpctl__subcmd__show__subcmd__peer,profile)
                cmd="l2tpctl__subcmd__show__subcmd__peer__subcmd__profile"
                ;;
            l2tpctl__subcmd__show__subcmd__peer,profiles)
                cmd="l2tpctl__subcmd__show__subcmd__peer__subcmd__profiles"
                ;;
            l2tpctl__subcmd__show__subcmd__ppp,profile)
                cmd="l2tpctl__subcmd__show__subcmd__ppp__subcmd__profile"
                ;;
            l2tpctl__subcmd__show__subcmd__ppp,profiles)
                cmd="l2tpctl__subcmd__show__subcmd__ppp__subcmd__profiles"
                ;;
            l2tpctl__subcmd__show__subcmd__pseudowire,profile)
                cmd="l2tpctl__subcmd__show__subcmd__pseudowire__subcmd__profile"
                ;;
            l2tpctl__subcmd__show__subcmd__pseudowire,profiles)
                cmd="l2tpctl__subcmd__show__subcmd__pseudowire__subcmd__profiles"
                ;;
            l2tpctl__subcmd__show__subcmd__session,profile)
                cmd="l2tpctl__subcmd__show__subcmd__session__subcmd__profile"
                ;;
            l2tpctl__subcmd__show__subcmd__session,profiles)
                cmd="l2tpctl__subcmd__show__subcmd__session__subcmd__profiles"
                ;;
            l2tpctl__subcmd__show__subcmd__tunnel,profile)
                cmd="l2tpctl__subcmd__show__subcmd__tunnel__subcmd__profile"
                ;;
            l2tpctl__subcmd__show__subcmd__tunnel,profiles)
                cmd="l2tpctl__subcmd__show__subcmd__tunnel__subcmd__profiles"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        l2tpctl)
            opts="-S -j -h -V --json --help --version show create delete reload disconnect request debug"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                -S)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__create)
            opts="-h --help tunnel session"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__create__subcmd__session)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__create__subcmd__tunnel)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__debug)
            opts="-h --help tunnel session"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__debug__subcmd__session)
            opts="-h --help on off"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__debug__subcmd__tunnel)
            opts="-h --help on off"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__delete)
            opts="-h --help tunnel session"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__delete__subcmd__session)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__delete__subcmd__tunnel)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__disconnect)
            opts="-h --help user address"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__disconnect__subcmd__address)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__disconnect__subcmd__user)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__reload)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__request)
            opts="-h --help speeds"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__request__subcmd__speeds)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show)
            opts="-h --help system tunnels tunnel sessions session peer pseudowire ppp ip radius"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__ip)
            opts="-h --help pools pool"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__ip__subcmd__pool)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__ip__subcmd__pools)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__peer)
            opts="-h --help profiles profile"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__peer__subcmd__profile)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__peer__subcmd__profiles)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__ppp)
            opts="-h --help profiles profile"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__ppp__subcmd__profile)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__ppp__subcmd__profiles)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__pseudowire)
            opts="-h --help profiles profile"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__pseudowire__subcmd__profile)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__pseudowire__subcmd__profiles)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__radius)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__session)
            opts="-h --help profiles profile"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__session__subcmd__profile)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__session__subcmd__profiles)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__sessions)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__system)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__tunnel)
            opts="-h --help profiles profile"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__tunnel__subcmd__profile)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__tunnel__subcmd__profiles)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        l2tpctl__subcmd__show__subcmd__tunnels)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _l2tpctl -o nosort -o bashdefault -o default l2tpctl
else
    complete -F _l2tpctl -o bashdefault -o default l2tpctl
fi
