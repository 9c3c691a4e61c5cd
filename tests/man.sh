#!/bin/sh
# The manual pages are lint-clean, and every option that --help (and the
# plugin's --help) lists is documented in certwatch(8) or certwatch.conf(5).
man8="$TESTS_SRCDIR/../man/certwatch.8"
man5="$TESTS_SRCDIR/../man/certwatch.conf.5"
n=0 failed=0
t() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }

if ! command -v mandoc >/dev/null 2>&1; then
	echo "1..0 # SKIP mandoc is not installed (tools/install-deps installs it)"
	exit 0
fi
for page in "$man8" "$man5"; do
	out=$(mandoc -T lint -W warning "$page" 2>&1)
	[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/# /'
	t "$([ -z "$out" ]; echo $?)" "$(basename "$page") is clean under mandoc -T lint -W warning"
done
for opt in $({ "$CERTWATCH" --help; "$CERTWATCH" nagios --help; } |
	grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
	# mdoc writes options as "Fl \-name" or "Fl name".
	name=${opt#--}
	grep -qE "Fl (\\\\-)?$name( |$)" "$man8" "$man5"
	t $? "option $opt from --help is documented in the manual"
done
# The plugin's options are documented where its reader looks: under PLUGIN
# MODE, or among the endpoint options it shares with check.
plugin_doc=$(sed -n -e '/^\.Ss Endpoint options/,/^\.S[sh] /p' -e '/^\.Sh PLUGIN MODE/,/^\.Sh /p' "$man8")
for opt in $("$CERTWATCH" nagios --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
	name=${opt#--}
	printf '%s\n' "$plugin_doc" | grep -qE "Fl (\\\\-)?$name( |,|$)"
	t $? "the plugin's $opt is documented under PLUGIN MODE or Endpoint options"
done
echo "1..$n"
exit $failed
