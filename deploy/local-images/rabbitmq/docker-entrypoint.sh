#!/bin/bash
# Entrypoint of the local rabbitmq stand-in, as the official image's: started as root with a rabbitmq* command,
# it hands /var/lib/rabbitmq to rabbitmq and runs the command as rabbitmq itself (exec, no su: the server is
# PID 1 and stops on SIGTERM). RABBITMQ_DEFAULT_USER / _PASS / _VHOST need nothing here: the server reads them.
set -euo pipefail

if [[ "${1:-}" == rabbitmq* ]] && [ "$(id -u)" = 0 ]; then
	if [ "$1" = rabbitmq-server ]; then
		# The Erlang cookie exists before the server starts: otherwise a health check (rabbitmq-diagnostics,
		# run as root with HOME=/var/lib/rabbitmq) arriving first writes one owned by root, which the server
		# cannot read ("Error when reading /var/lib/rabbitmq/.erlang.cookie: eacces"). The same 20 capital
		# letters Erlang would write.
		cookie=/var/lib/rabbitmq/.erlang.cookie
		if [ ! -e "$cookie" ]; then
			value=$(LC_ALL=C tr -dc A-Z </dev/urandom | head -c 20 || true)
			(umask 0277 && printf '%s' "$value" >"$cookie")
			chown rabbitmq:rabbitmq "$cookie"
		fi
		find /var/lib/rabbitmq \! -user rabbitmq -exec chown rabbitmq '{}' +
	fi
	export HOME=/var/lib/rabbitmq
	exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups -- "${BASH_SOURCE[0]}" "$@"
fi

# Variables the official image refuses since 3.9: configuration files replace them.
deprecated=(
	RABBITMQ_DEFAULT_PASS_FILE RABBITMQ_DEFAULT_USER_FILE RABBITMQ_MANAGEMENT_SSL_CACERTFILE
	RABBITMQ_MANAGEMENT_SSL_CERTFILE RABBITMQ_MANAGEMENT_SSL_DEPTH RABBITMQ_MANAGEMENT_SSL_FAIL_IF_NO_PEER_CERT
	RABBITMQ_MANAGEMENT_SSL_KEYFILE RABBITMQ_MANAGEMENT_SSL_VERIFY RABBITMQ_SSL_CACERTFILE RABBITMQ_SSL_CERTFILE
	RABBITMQ_SSL_DEPTH RABBITMQ_SSL_FAIL_IF_NO_PEER_CERT RABBITMQ_SSL_KEYFILE RABBITMQ_SSL_VERIFY
	RABBITMQ_VM_MEMORY_HIGH_WATERMARK
)
old_env=
for name in "${deprecated[@]}"; do
	if [ -n "${!name:-}" ]; then
		echo >&2 "error: $name is set but deprecated"
		old_env=1
	fi
done
if [ -n "$old_env" ]; then
	echo >&2 'error: deprecated environment variables detected; use a configuration file instead'
	exit 1
fi

# If the long and short host names differ, use long names (as the official image does).
if [ -z "${RABBITMQ_USE_LONGNAME:-}" ] && [ "$(hostname)" != "$(hostname -s)" ]; then
	export RABBITMQ_USE_LONGNAME=true
fi

exec "$@"
