/*
 * check_ctlproto - the control protocol's requests: what is accepted, the
 * reason for what is not, the canonical spelling, JSON quoting.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"
#include "kdtest.h"

static struct ctl_req	req;

static int
parse(const char *s, char *err, size_t len)
{
	return ctl_parse(s, strlen(s), &req, err, len);
}

START_TEST(accepted)
{
	char	err[256];

	ck_assert_int_eq(parse("status", err, sizeof err), 0);
	ck_assert_int_eq(req.cmd, CTL_STATUS);
	ck_assert_uint_eq(req.nargs, 0);
	ck_assert_int_eq(parse("  status\tp1  \"p 2\"  ", err, sizeof err), 0);
	ck_assert_uint_eq(req.nargs, 2);
	ck_assert_str_eq(req.args[0], "p1");
	ck_assert_str_eq(req.args[1], "p 2");
	ck_assert_int_eq(parse("capture p \"/a \\\"b\\\" \\\\c\"", err,
	    sizeof err), 0);
	ck_assert_int_eq(req.cmd, CTL_CAPTURE);
	ck_assert_str_eq(req.args[1], "/a \"b\" \\c");
	ck_assert_int_eq(parse("capture-stop p", err, sizeof err), 0);
	ck_assert_int_eq(req.cmd, CTL_CAPTURE_STOP);
	ck_assert_int_eq(parse("break \"\"", err, sizeof err), 0);
	ck_assert_str_eq(req.args[0], "");
}
END_TEST

START_TEST(refused)
{
	static const struct { const char *in, *why; } t[] = {
		{ "", "usage: empty request (try help)" },
		{ " \t ", "usage: empty request (try help)" },
		{ "frob", "usage: unknown command (try help)" },
		{ "STATUS", "usage: unknown command (try help)" },
		{ "break", "usage: break PAIR" },
		{ "break a b", "usage: break PAIR" },
		{ "capture p", "usage: capture PAIR FILE" },
		{ "reload x", "usage: reload" },
		{ "status \"a", "usage: unterminated quote" },
		{ "status \"a\\", "usage: unterminated quote" },
		{ "status \"a\\n\"", "usage: only \\\" and \\\\ may be escaped" },
		{ "status \"a\"b", "usage: a quoted word must end at a blank" },
		{ "status \x01", "usage: control character 0x01 at byte 8" },
		{ "st\x7f", "usage: control character 0x7f at byte 3" },
	};
	char	err[256];
	size_t	i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		ck_assert_msg(parse(t[i].in, err, sizeof err) == -1, "%zu", i);
		ck_assert_str_eq(err, t[i].why);
	}
	/* A NUL inside the line is a control character too. */
	ck_assert_int_eq(ctl_parse("status\0x", 8, &req, err, sizeof err), -1);
}
END_TEST

START_TEST(limits)
{
	char	*s, err[256];
	size_t	 i;

	s = malloc(CTL_LINE_MAX + 2);
	ck_assert_ptr_nonnull(s);
	memset(s, 'x', CTL_LINE_MAX + 1);
	ck_assert_int_eq(ctl_parse(s, CTL_LINE_MAX + 1, &req, err,
	    sizeof err), -1);
	ck_assert_str_eq(err, "usage: request longer than 4096 bytes");
	memcpy(s, "status ", 7);
	s[7 + CTL_WORD_MAX] = '\0';
	ck_assert_int_eq(parse(s, err, sizeof err), -1);
	ck_assert_str_eq(err, "usage: a word longer than 1023 bytes");
	strcpy(s, "status");
	for (i = 0; i <= CTL_WORDS_MAX; i++)
		strcat(s, " p");
	ck_assert_int_eq(parse(s, err, sizeof err), -1);
	ck_assert_str_eq(err, "usage: more than 64 arguments");
	free(s);
}
END_TEST

START_TEST(canonical)
{
	char		 line[CTL_LINE_MAX + 1], err[256];
	struct ctl_req	*b = malloc(sizeof *b);

	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(parse("capture  p1 \"/x \\\"y\\\"\"", err,
	    sizeof err), 0);
	ck_assert_int_eq(ctl_format(&req, line, sizeof line), 0);
	ck_assert_str_eq(line, "capture \"p1\" \"/x \\\"y\\\"\"");
	ck_assert_int_eq(ctl_parse(line, strlen(line), b, err, sizeof err),
	    0);
	ck_assert_int_eq(b->cmd, req.cmd);
	ck_assert_str_eq(b->args[1], "/x \"y\"");
	free(b);
}
END_TEST

START_TEST(json)
{
	char	q[64], back[64];

	ctl_json_string("a\"b\\c\n\x01\xe9", q, sizeof q);
	ck_assert_str_eq(q, "\"a\\\"b\\\\c\\u000a\\u0001\\u00e9\"");
	ck_assert_int_eq(ctl_json_unquote(q, back, sizeof back), 0);
	ck_assert_str_eq(back, "a\"b\\c\n\x01\xe9");
	ck_assert_int_eq(ctl_json_unquote("\"x\" ", back, sizeof back), -1);
	ck_assert_int_eq(ctl_json_unquote("\"\\u0100\"", back, sizeof back),
	    -1);
	ck_assert_int_eq(ctl_json_unquote("12", back, sizeof back), -1);
	/* Too small: cut, still quoted. */
	ctl_json_string("abcdefgh", q, 6);
	ck_assert_str_eq(q, "\"abc\"");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("ctlproto");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, accepted);
	tcase_add_test(tc, refused);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, canonical);
	tcase_add_test(tc, json);
	suite_add_tcase(s, tc);
	return (kt_run(s));
}
