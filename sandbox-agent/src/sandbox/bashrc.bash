# /etc/bash.bashrc of an nslab sandbox (generated; sourced by /etc/profile for interactive bash).
# Shell integration: marks in the terminal stream let the lab build a command transcript.
#   ESC]133;A BEL            a prompt starts
#   ESC]133;C BEL            an entered command starts running
#   ESC]133;D;<status> BEL   it ended with <status>; immediately followed by
#   ESC]633;E;<line> BEL     the command line (\ written \\, ; written \x3b, control chars dropped)
[ -z "${PS1-}" ] && return

export TERM="${TERM:-xterm-256color}" LANG=C.UTF-8 HOME=/root
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
HISTFILE=/root/.bash_history
HISTCONTROL=
HISTSIZE=1000
shopt -s checkwinsize histappend

if [ -x /usr/bin/dircolors ]; then eval "$(/usr/bin/dircolors -b)"; fi
alias ls='ls --color=auto'
alias grep='grep --color=auto'

PS1='\[\e[1;32m\]\u@\h\[\e[0m\]:\[\e[1;34m\]\w\[\e[0m\]\$ '

__nslab_armed=
__nslab_running=
__nslab_line=

__nslab_preexec() {
  # DEBUG trap: runs before every simple command typed at the prompt (not inside functions).
  [ -n "$__nslab_armed" ] || return 0
  case "$BASH_COMMAND" in __nslab_precmd*) return 0 ;; esac
  __nslab_armed=
  __nslab_running=1
  local h
  h=$(HISTTIMEFORMAT= builtin history 1)
  if [[ $h =~ ^[[:space:]]*[0-9]+[*]?[[:space:]][[:space:]](.*)$ ]]; then
    __nslab_line=${BASH_REMATCH[1]}
  else
    __nslab_line=$BASH_COMMAND
  fi
  builtin printf '\e]133;C\a'
}

__nslab_precmd() {
  local s=$?
  if [ -n "$__nslab_running" ]; then
    local c=$__nslab_line
    c=${c//\\/\\\\}
    c=${c//;/\\x3b}
    c=${c//[[:cntrl:]]/}
    builtin printf '\e]133;D;%s\a\e]633;E;%s\a' "$s" "$c"
    __nslab_running=
  fi
  builtin printf '\e]133;A\a'
  __nslab_armed=1
}

PROMPT_COMMAND=__nslab_precmd
trap '__nslab_preexec' DEBUG
