# bash completion for segexport (installed as
# $(PREFIX)/share/bash-completion/completions/segexport).
# Commands are listed here; each command's options are read from its own
# `segexport COMMAND --help`, so they are always the ones it takes.

_segexport()
{
    local cur prev cmd i opts
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    COMPREPLY=()

    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W "run create get list cancel delete key merge files cat verify help --help --version" -- "$cur"))
        return 0
    fi
    cmd=${COMP_WORDS[1]}
    if [[ $cmd == help && $COMP_CWORD -eq 2 ]]; then
        COMPREPLY=($(compgen -W "run create get list cancel delete key merge files cat verify" -- "$cur"))
        return 0
    fi

    case $prev in
        --format)
            COMPREPLY=($(compgen -W "tar.gz tar.zst tar.xz tar zip" -- "$cur")); return 0;;
        --status)
            COMPREPLY=($(compgen -W "NEW PROCESSING SUCCEEDED FAILED" -- "$cur")); return 0;;
        --store|--output)
            COMPREPLY=($(compgen -d -- "$cur")); return 0;;
        --merge-policies|--segment-definitions)
            COMPREPLY=($(compgen -f -- "$cur")); return 0;;
        --org|--sandbox|--level|--max-errors|--max-record-bytes|--rows-per-file|--shard|--limit|--offset)
            return 0;;
    esac

    if [[ $cur == -* ]]; then
        opts=$("${COMP_WORDS[0]}" "$cmd" --help 2>/dev/null |
               sed -n 's/^  \(-[a-z], \)\{0,1\}\(--[a-z-]*\).*/\2/p')
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return 0
    fi
    case $cmd in
        files|cat|verify)
            # a batch id: the archives under the output root (--output, else
            # STORE/datasets); verify takes archive paths too
            local store=${SEGEXPORT_STORE:-./.segexport} output= ids nops=0
            for ((i = 2; i < COMP_CWORD; i++)); do
                case ${COMP_WORDS[i]} in
                    --output) output=${COMP_WORDS[i+1]}; ((i++));;
                    --store) store=${COMP_WORDS[i+1]}; ((i++));;
                    --output=*) output=${COMP_WORDS[i]#--output=};;
                    --store=*) store=${COMP_WORDS[i]#--store=};;
                    -*) ;;
                    *) ((nops++));;
                esac
            done
            if [[ $cmd == cat && $nops -ge 1 ]]; then
                return 0   # FILE: 'segexport files BATCH_ID' lists them
            fi
            ids=$(cd "${output:-$store/datasets}" 2>/dev/null && ls -1 -- */ 2>/dev/null |
                  sed -n 's/^\([0-9a-f]\{32\}\)\..*/\1/p')
            COMPREPLY=($(compgen -W "$ids" -- "$cur"))
            [[ $cmd == verify ]] && COMPREPLY+=($(compgen -f -- "$cur"));;
        get|cancel|delete)
            ;;
        *)
            COMPREPLY=($(compgen -f -- "$cur"));;
    esac
    return 0
}
complete -o filenames -o bashdefault -F _segexport segexport
