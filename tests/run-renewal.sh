#!/bin/sh
# The main job end to end: real nginx, Dovecot and Postfix on loopback, one
# `certwatch run` guarding all three.  Each server's files are renewed the
# way certbot (live/ -> archive/ links), a rename-over client, acme.sh
# (truncate and rewrite in place) and Kubernetes (..data swap) write them.
# With interval = 1h only inotify can tell the daemon: it must settle,
# reload through the server's own command, verify, and an independent
# openssl s_client must then see the new certificate.  The time from a
# renewal's last file operation to the daemon's "reload verified" line is
# printed for each server and style.
. "$TESTS_SRCDIR/lib.sh"

server_test 7 nginx dovecot doveadm postfix postconf openssl

servers="nginx dovecot postfix"
styles="certbot rename inplace k8s"
settle_s=1    # daemon_conf's settle
limit_ms=$(((settle_s + 15) * 1000))

name_of() {
	case $1 in nginx) echo web.test ;; dovecot) echo mail.test ;; postfix) echo mx.test ;; esac
}
live_of() {
	echo "$TEST_TMP/disk/$1/live/site"
}
# gen_of SERVER N: the ca_leaf prefix of the server's Nth certificate.
gen_of() {
	echo "$TEST_TMP/certs/$1-$2"
}

mkdir -p "$TEST_TMP/certs"
for s in $servers; do
	for g in 0 1 2 3 4; do
		ca_leaf "$(gen_of "$s" $g)" $((60 + g)) "$(name_of "$s")" ||
			bail_out "cannot make a certificate"
	done
	disk_install certbot "$(live_of "$s")" "$(gen_of "$s" 0)" ||
		bail_out "cannot lay out $s's files"
done

web_port=$(free_port)
L=$(live_of nginx)
nginx_start "$web_port" <<NGINX || bail_out "nginx did not start"
	server {
		listen 127.0.0.1:$web_port ssl;
		server_name web.test;
		ssl_certificate $L/fullchain.pem;
		ssl_certificate_key $L/privkey.pem;
		return 200 "web\n";
	}
NGINX
L=$(live_of dovecot)
dovecot_start "$L/fullchain.pem" "$L/privkey.pem" || bail_out "dovecot did not start"
L=$(live_of postfix)
postfix_start "$L/fullchain.pem" "$L/privkey.pem" || bail_out "postfix did not start"

conf="$TEST_TMP/etc/certwatch.conf"
{
	daemon_conf
	conf_service nginx web.test "$(live_of nginx)" "reload-command = $(nginx_reload_argv)" \
		'max-reloads-per-hour = 10' "endpoint https { port = $web_port }"
	conf_service dovecot mail.test "$(live_of dovecot)" "reload-command = $(dovecot_reload_argv)" \
		'max-reloads-per-hour = 10' "endpoint imaps { port = $dc_imaps }" \
		"endpoint imap { port = $dc_imap starttls = \"imap\" }"
	conf_service postfix mx.test "$(live_of postfix)" "reload-command = $(postfix_reload_argv)" \
		'max-reloads-per-hour = 10' "endpoint smtp { port = $pf_smtp starttls = \"smtp\" }"
} | write_conf "$conf"

# served SERVER: what openssl s_client sees on each of the server's endpoints.
served() {
	case $1 in
	nginx) served_fp 127.0.0.1 "$web_port" - web.test ;;
	dovecot) echo "$(served_fp 127.0.0.1 "$dc_imaps" - mail.test) $(served_fp 127.0.0.1 "$dc_imap" imap mail.test)" ;;
	postfix) served_fp 127.0.0.1 "$pf_smtp" smtp mx.test ;;
	esac
}
expect() {    # SERVER FP: what served prints when every endpoint serves FP
	case $1 in dovecot) echo "$2 $2" ;; *) echo "$2" ;; esac
}

mark=$(log_mark)
daemon_start "$conf"
ok "the daemon starts and settles with every endpoint OK" wait_for 30 status_all_ok "$conf" ||
	diag "$(log_since "$mark")"
is "$(log_count "$mark" 'reloading')" 0 "nothing to reload at start: no reload"

g=0
for style in $styles; do
	g=$((g + 1))
	# A change of layout with the same pair: the daemon looks, and does nothing.
	if [ "$style" != certbot ]; then
		mark=$(log_mark)
		for s in $servers; do
			disk_install "$style" "$(live_of "$s")" "$(gen_of "$s" $((g - 1)))" ||
				bail_out "cannot change $s's files to the $style layout"
		done
		sleep $((settle_s + 1))
		wait_for 20 status_all_ok "$conf" ||
			diag "$style layout: the daemon did not settle" "$(log_since "$mark")"
		is "$(log_count "$mark" 'reloading')" 0 "$style layout with the same pair: no reload"
	fi

	mark=$(log_mark)
	for s in $servers; do
		disk_renew "$style" "$(live_of "$s")" "$(gen_of "$s" $g)" ||
			bail_out "cannot renew $s's files the $style way"
		eval "t_$s=\$(now_ms)"
	done
	for s in $servers; do
		fp_new=$(cert_fp "$(gen_of "$s" $g).crt")
		fp_old=$(cert_fp "$(gen_of "$s" $((g - 1))).crt")
		t=0
		eval "t=\$t_$s"
		if wait_log "$mark" "^[0-9]+ certwatch: $s: reload verified" $((limit_ms / 1000 + 5)); then
			dt=$((log_ms - t))
			diag "$s $style: served the new certificate $(ms_to_s $dt) s after the renewal"
			ok "$s $style: reload verified within settle + 15 s of the renewal" \
				test "$dt" -lt "$limit_ms"
		else
			_tap_result 1 "$s $style: reload verified within settle + 15 s of the renewal"
			diag "$(log_since "$mark")"
		fi
		is "$(served "$s")" "$(expect "$s" "$fp_new")" \
			"$s $style: openssl s_client sees the renewed certificate on every endpoint"
		is "$(reloads_started "$mark" "$s")" 1 \
			"$s $style: exactly one reload for the renewal"
		like "$(log_since "$mark" | grep "^certwatch: $s/[a-z]*: certificate on disk changed")" \
			"changed from $(printf %.12s "$fp_old") to $(printf %.12s "$fp_new") \\(new public key\\)" \
			"$s $style: the change is logged with the old and new fingerprint"
	done
done

cw status --config "$conf" --json
is "$cw_rc" 0 "certwatch status after the renewals: exit 0"
for s in $servers; do
	is "$(json_service "$cw_out" "$s" last_reload_ok)/$(json_service "$cw_out" "$s" failures)" \
		true/0 "status: $s's last reload succeeded, no failures"
done

daemon_stop
is "$daemon_rc" 0 "the daemon stops on SIGTERM with status 0"
daemon_log_clean
done_testing
