# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
#
# awk -v file=F [-v selftest=1] -f lines.awk ADDED AMD INTEL SOURCE, for
# tests/coverage/run: the verdict on each line that the series adds to the C
# file F (with selftest=1: the check of the rules below, described there).
#   ADDED        the numbers of the added lines, one a line
#   AMD, INTEL   gcov's view of SOURCE in each lab (empty for a lab not run):
#                "LINE COUNT BRANCHES", COUNT -1 where the line has no
#                counter, BRANCHES the taken counts ("4,0") or "-"
#   SOURCE       the file as compiled
# Prints, for each added line that holds code (not blank, not only comment):
#   LINE<TAB>KIND<TAB>AMD<TAB>INTEL<TAB>EITHER<TAB>WHY<TAB>SOURCE TEXT (tabs as spaces)
# KIND: counted (gcov has a counter for it), judged (none: the verdict comes
# from the line it continues or that controls it, WHY says which), structural
# (no code of its own: braces, else, labels, declarations without a value,
# preprocessor lines, what lies outside function bodies). The verdicts: 1
# executed, 0 never executed, -1 cannot be told from the counts, - no lab.
#
# Why judge: at -O2, GCC folds many a statement into its neighbours before
# gcov instruments the code (`return -EINVAL;` becomes an operand of the
# function's return block), so it has no counter of its own. Its verdict then
# comes from, in this order: the statement it continues; a later statement
# of its block that ran (control went through it); the statement before it
# in its block; the branch counts of the condition that controls it. What
# none of these tells is -1, for a reader to judge. The rules' check
# (tests/coverage/run --self-test) judges every counted statement of the
# files as if it had no counter: in the series' six files, of 8,144 such
# statements (the measured run of make coverage), 6,124 were judged as their
# counters say, 8 otherwise (gcov's own counts for some of those are at odds
# with their neighbours'), and 2,012 not told.

function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
function depth_of(s,   i, c, n) {
	n = 0
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\t") n = int(n / 8) * 8 + 8
		else if (c == " ") n++
		else break
	}
	return int(n / 8)
}
function text(s) { gsub(/\t/, " ", s); return trim(s) }
function count_of(s, ch,   t) { t = s; return gsub(ch, "", t) }
function structural(s) {
	return s ~ /^[{}();, ]*$/ || s ~ /^(\} *)?else( *\{)?$/ || s ~ /^#/ ||
	       s ~ /^(case .*|default) *: *\{?$/ || s ~ /^[A-Za-z_][A-Za-z0-9_]*:$/ ||
	       s ~ /^(EXPORT_SYMBOL|MODULE_)[A-Za-z_]*\(.*\);$/ ||
	       s ~ /^(struct|union|enum) [A-Za-z_][A-Za-z0-9_]* *\{$/ ||
	       (s ~ /^((const|static|unsigned|signed|struct|union|enum|volatile) +)*[A-Za-z_][A-Za-z0-9_]*( +__user)?[ *]+[A-Za-z_][A-Za-z0-9_]*(\[[0-9A-Za-z_ +*]*\])?(,[ *]*[A-Za-z_][A-Za-z0-9_]*)*;$/ &&
	        s !~ /^(return|goto|break|continue|else|case|do) /)
}
function is_jump(s) { return s ~ /^(return|goto [A-Za-z_][A-Za-z0-9_]*|break|continue)( |;|\(|$)/ }
function has_count(lab, n) { return ((lab SUBSEP n) in cnt) && cnt[lab, n] >= 0 }

function is_label(s) { return s ~ /^[A-Za-z_][A-Za-z0-9_]*:$/ && s !~ /^default:$/ }
function is_case(s) { return s ~ /^(case .*|default) *: *\{?$/ }
function is_else(s) { return s ~ /^(\} *)?else([ {]|$)/ }
function is_header(s) { return s ~ /^(\} *)?(if|else|switch|for|while|do)([ ({]|$)/ }

# judge(LAB, N): the verdict on a code line N without a counter, and why[N].
function judge(lab, n,   m, s, a, inelse, incase, label, k, nb, b, e, last) {
	# a statement that goes on from the line before: that statement's verdict
	m = prev[n]
	if (m && fn[m] == fn[n] && cont[m]) {
		why[n] = "continues line " head[m]
		return v[lab, m]
	}
	# a later statement of its block ran: control went through this one
	if (!is_jump(t[n]) && !is_else(t[n])) {
		for (m = n + 1; m <= nl && fn[m] == fn[n]; m++) {
			if (!code[m] || head[m] != m) continue
			if (ind[m] < ind[n] || is_label(t[m]) || is_case(t[m])) break
			if (ind[m] > ind[n] || structural(t[m]) && !is_else(t[m])) continue
			if (is_else(t[m]) || is_jump(t[m]) && !has_count(lab, m)) break
			if (has_count(lab, m) && cnt[lab, m] > 0) { why[n] = "before line " m; return 1 }
			if (is_jump(t[m])) break
		}
	}
	# the statement before it in its block, or the condition that controls it
	inelse = 0; label = 0; incase = 0
	for (m = n - 1; m >= 1; m--) {
		if (!fn[m] || fn[m] != fn[n]) {
			# the function's first statement: the entry count, on the line
			# that names the function (0 there may be an inlined function's)
			for (k = fn[n] - 1; k >= 1 && k > fn[n] - 12 && !fn[k]; k--)
				if (has_count(lab, k)) break
			if (k >= 1 && !fn[k] && has_count(lab, k) && cnt[lab, k] > 0) {
				why[n] = "first in its function (line " k ")"
				return 1
			}
			why[n] = "first in its function, whose entry count is 0 or none"
			return -1
		}
		if (!code[m] || head[m] != m) continue
		if (ind[m] < ind[n] && t[m] ~ /^(\} *)?else( *\{)?$/) inelse = 1
		if (ind[m] < ind[n] && is_case(t[m])) incase = 1
		if (is_label(t[m])) label = 1
		if (structural(t[m]) || is_case(t[m])) continue
		if (ind[m] > ind[n] || ((inelse || incase) && ind[m] >= ind[n])) continue
		break
	}
	s = m
	if (is_else(t[n])) { why[n] = "an else branch"; return -1 }
	if (ind[s] == ind[n]) {
		if (label) { why[n] = "after a label"; return -1 }
		if (is_jump(t[s])) { why[n] = "after the jump at line " s; return -1 }
		if (!is_header(t[s])) { why[n] = "after line " s; return v[lab, s] }
		if (t[s] !~ /^if[ (]/ || !has_count(lab, s)) { why[n] = "after the statement at line " s; return -1 }
		# after an if without else: its arm ends in a jump, or both ways lead here
		a = 0; last = 0
		for (m = s + 1; m < n; m++) {
			if (!code[m] || head[m] != m) continue
			if (ind[m] == ind[s] && is_else(t[m])) { why[n] = "after the if/else at line " s; return -1 }
			if (ind[m] > ind[s] && !structural(t[m])) {
				if (last && is_jump(t[last])) { why[n] = "after line " s ", whose arm may jump"; return -1 }
				if (!a) a = m
				last = m
			}
		}
		if (!last || !is_jump(t[last])) { why[n] = "after line " s; return cnt[lab, s] > 0 }
		if (has_count(lab, a)) {
			why[n] = "after line " s " (" cnt[lab, s] " times) whose arm (line " a ", " cnt[lab, a] " times) jumps"
			return cnt[lab, s] - cnt[lab, a] > 0
		}
		why[n] = "after line " s ", whose arm jumps"
		return -1
	}
	# s controls n
	if (!has_count(lab, s)) {
		why[n] = "under line " s ", which has no counter"
		return v[lab, s] == 0 ? 0 : -1
	}
	if (cnt[lab, s] == 0) { why[n] = "under line " s ", never executed"; return 0 }
	nb = split(br[lab, s], b, ",")
	if (br[lab, s] == "-" || nb == 0) { why[n] = "under line " s; return 1 }
	e = 0
	for (k = 1; k <= nb; k++) if (b[k] == 0) e++
	# A then-arm that ends in a jump: the line after the if runs as often
	# as the other branch, so this arm runs as often as the remaining one.
	if (nb == 2 && !inelse) {
		last = n
		for (m = n + 1; m <= nl && fn[m] == fn[n]; m++) {
			if (!code[m]) continue
			if (ind[m] <= ind[s]) break
			if (!structural(t[m]) && head[m] == m) last = m
		}
		if (m <= nl && fn[m] == fn[n] && has_count(lab, m) && is_jump(t[last])) {
			if (cnt[lab, m] == b[1] && cnt[lab, m] != b[2]) { why[n] = "under line " s ", branch taken " b[2] " times"; return b[2] > 0 }
			if (cnt[lab, m] == b[2] && cnt[lab, m] != b[1]) { why[n] = "under line " s ", branch taken " b[1] " times"; return b[1] > 0 }
		}
	}
	if (e == 0 && !incase) { why[n] = "under line " s ", every branch taken"; return 1 }
	why[n] = (incase ? "in a case of the switch at line " s : "under line " s) ", branches " br[lab, s]
	return -1
}

FILENAME == ARGV[1] { added[$1] = 1; next }
FILENAME == ARGV[2] { cnt["amd", $1] = $2; br["amd", $1] = $3; labs["amd"] = 1; next }
FILENAME == ARGV[3] { cnt["intel", $1] = $2; br["intel", $1] = $3; labs["intel"] = 1; next }
{ src[FNR] = $0 }
END {
	nl = FNR
	# both labs: counts and branch counts added up
	for (n = 1; n <= nl; n++) {
		a = has_count("amd", n); i = has_count("intel", n)
		if (!a && !i) continue
		cnt["either", n] = (a ? cnt["amd", n] : 0) + (i ? cnt["intel", n] : 0)
		if (!a || !i || br["amd", n] == "-" || br["intel", n] == "-") {
			br["either", n] = a ? br["amd", n] : br["intel", n]
			continue
		}
		nb = split(br["amd", n], x, ","); split(br["intel", n], y, ",")
		s = ""
		for (k = 1; k <= nb; k++) s = s (k > 1 ? "," : "") (x[k] + y[k])
		br["either", n] = s
	}
	if (length(labs) > 0) labs["either"] = 1

	# the source: each line without comments and string contents (t), its
	# depth (ind), the function body it lies in (fn: the line of its
	# opening brace), the line before it with code (prev), the line its
	# statement starts on (head), and whether the statement goes on (cont)
	incomment = 0; depth = 0; infn = 0; pd = 0; last = 0; lastcode = ""
	for (n = 1; n <= nl; n++) {
		line = src[n]; out = ""; quote = ""
		for (i = 1; i <= length(line); i++) {
			ch = substr(line, i, 1); c2 = substr(line, i, 2)
			if (incomment) { if (c2 == "*/") { incomment = 0; i++ } continue }
			if (quote != "") { if (ch == "\\") i++; else if (ch == quote) { quote = ""; out = out ch } continue }
			if (c2 == "/*") { incomment = 1; i++; out = out " "; continue }
			if (c2 == "//") break
			if (ch == "\"" || ch == "'") { quote = ch; out = out ch; continue }
			out = out ch
		}
		t[n] = trim(out)
		ind[n] = depth_of(line)
		code[n] = t[n] != ""
		if (!code[n]) { fn[n] = infn; continue }
		opens = count_of(t[n], "[{]"); closes = count_of(t[n], "[}]")
		if (depth == 0 && t[n] ~ /^\{/ && lastcode ~ /\)$/) infn = n
		fn[n] = infn
		depth += opens - closes
		if (depth <= 0) { depth = 0; infn = 0 }
		prev[n] = last
		head[n] = (last && cont[last] && fn[last] == fn[n]) ? head[last] : n
		pd += count_of(t[n], "[(]") - count_of(t[n], "[)]")
		if (t[n] ~ /[;{}]$/ || t[n] ~ /^#/ || pd < 0) pd = 0
		cont[n] = pd > 0 || t[n] ~ /[=,|&+*\/?<>!-]$/
		last = n; lastcode = t[n]
	}

	for (lab in labs)
		for (n = 1; n <= nl; n++) {
			if (!code[n]) continue
			if (has_count(lab, n)) { v[lab, n] = cnt[lab, n] > 0; kind[n] = "counted"; continue }
			if (!fn[n] || structural(t[n])) { v[lab, n] = "-"; kind[n] = "structural"; continue }
			kind[n] = "judged"
			v[lab, n] = judge(lab, n)
			if (lab == "either") reason[n] = why[n]
		}

	if (selftest) {
		# the rules' check: judge the counted statements as if they had no
		# counter, and compare with their counts (tests/coverage/run --self-test)
		lab = "either"; ok = 0; bad = 0; none = 0
		for (n = 1; n <= nl; n++) {
			if (!code[n] || !has_count(lab, n) || !fn[n] || structural(t[n]) || head[n] != n) continue
			keep = cnt[lab, n]; delete cnt[lab, n]; kv = v[lab, n]
			j = judge(lab, n)
			cnt[lab, n] = keep; v[lab, n] = kv
			if (j == -1) none++
			else if (j == (keep > 0)) ok++
			else { bad++; printf "  wrong: %s:%d: counted %d, judged %d (%s): %s\n", file, n, keep, j, why[n], text(src[n]) }
		}
		printf "%s %d %d %d\n", file, ok, bad, none
		exit
	}
	for (n = 1; n <= nl; n++) {
		if (!(n in added) || !code[n]) continue
		if (kind[n] == "") kind[n] = fn[n] && !structural(t[n]) ? "nolab" : "structural"
		printf "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", n, kind[n],
			("amd" in labs) ? v["amd", n] : "-", ("intel" in labs) ? v["intel", n] : "-",
			("either" in labs) ? v["either", n] : "-", reason[n], text(src[n])
	}
}
