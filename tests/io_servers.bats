#!/usr/bin/env bats
# Real servers under the io recorder, on 127.0.0.1 free ports: per-peer
# request counts match what the client says it sent. Skipped when the
# server is not installed (tools/install-deps.sh installs them).

load helpers

setup() {
	setup_tmp
	SERVER_PID=
}
teardown() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	teardown_tmp
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

@test "redis-server + redis-benchmark: one reply per request on each client connection" {
	command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null || skip "redis not installed"
	port=$(free_port)
	PROFSHIM_RECORD=io PROFSHIM_OUTPUT="$TMP/r.trace" LD_PRELOAD="$SHIM" \
		redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP" \
		>"$TMP/redis.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
	# one client, no pipelining: each request is one read and one reply
	run redis-benchmark -q -n 500 -c 1 -t ping -p "$port"
	[ "$status" -eq 0 ]
	redis-cli -p "$port" shutdown nosave || true
	wait "$SERVER_PID" || true
	SERVER_PID=
	analyze_json "$TMP/r.trace" -q
	# PING_INLINE and PING_MBULK: two connections of 500 requests each
	assert_eq "$(jqr "[.io_metrics.network.peers[] | select(.local_port == $port and .sends == 500)] | length")" 2 "benchmark connections"
	assert_eq "$(jqr "[.io_metrics.network.peers[] | select(.local_port == $port and .sends == 500) | .receives >= 500] | all")" true
}

@test "nginx + a bounded curl loop: one connection and one response per request" {
	command -v nginx >/dev/null && command -v curl >/dev/null || skip "nginx or curl not installed"
	port=$(free_port)
	mkdir -p "$TMP/www"
	echo hello > "$TMP/www/index.html"
	cat >"$TMP/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
error_log $TMP/error.log;
pid $TMP/nginx.pid;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $TMP/cb; proxy_temp_path $TMP/pt; fastcgi_temp_path $TMP/ft;
	uwsgi_temp_path $TMP/ut; scgi_temp_path $TMP/st;
	server { listen 127.0.0.1:$port; root $TMP/www; }
}
CONF
	PROFSHIM_RECORD=io PROFSHIM_OUTPUT="$TMP/n.trace" LD_PRELOAD="$SHIM" \
		nginx -c "$TMP/nginx.conf" -p "$TMP" >"$TMP/nginx.log" 2>&1 &
	SERVER_PID=$!
	ok=0
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && { ok=1; break; }
		sleep 0.05
	done
	[ "$ok" -eq 1 ]
	for _ in $(seq 20); do
		[ "$(curl -s "http://127.0.0.1:$port/index.html")" = hello ]
	done
	kill -QUIT "$SERVER_PID"
	wait "$SERVER_PID" || true
	SERVER_PID=
	analyze_json "$TMP/n.trace" -q
	# 21 requests (the readiness probe + 20), each on a connection of its own
	assert_eq "$(jqr "[.io_metrics.network.peers[] | select(.local_port == $port and (.peer | endswith(\"(listening)\") | not))] | length")" 21 "connections"
	assert_eq "$(jqr "[.io_metrics.network.peers[] | select(.local_port == $port and (.peer | endswith(\"(listening)\") | not)) | .ops_by_kind.accept] | add")" 21 "accepts"
	assert_eq "$(jqr "[.io_metrics.network.peers[] | select(.local_port == $port and (.peer | endswith(\"(listening)\") | not)) | .sends] | add")" 21 "responses"
}
