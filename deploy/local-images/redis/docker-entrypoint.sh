#!/bin/sh
# Entrypoint of the local redis stand-in, as the official image's: options or a .conf file alone become
# redis-server's arguments; as root it hands /data to redis and runs again as redis; umask 0077.
set -e

# "docker run redis --appendonly yes" or "docker run redis /path/redis.conf"
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
    set -- redis-server "$@"
fi

if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
    find . \! -user redis -exec chown redis '{}' +
    exec setpriv --reuid=redis --regid=redis --init-groups -- "$0" "$@"
fi

# The official image is built with protected-mode off by default; Debian's Redis is not. Without a
# configuration file (first argument an option, or none) say so on the command line, first, so that a later
# --protected-mode still wins.
if [ "$1" = redis-server ]; then
    case "${2:-}" in
        "" | --*)
            shift
            set -- redis-server --protected-mode no "$@"
            ;;
    esac
fi

um=$(umask)
if [ "$um" = 0022 ]; then
    umask 0077
fi

exec "$@"
