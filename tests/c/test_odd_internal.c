/*
 * test_odd_internal.c: the library's own checks of odd text (issue 14):
 * UTF-8 validation, escaping for messages, JSON strings that stay JSON
 * whatever bytes they are given, module names, and the JSON checker's
 * UTF-8 and depth limits. Calls the internal jr_* functions.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "harness.h"
#include "json.h"
#include "names.h"
#include "util.h"

static int valid(const char *s)
{
	return jr_utf8_valid(s, strlen(s));
}

static void test_utf8_valid_takes_only_well_formed_text(void)
{
	CHECK(valid(""));
	CHECK(valid("plain ascii"));
	CHECK(valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80")); /* é € 😀 */
	CHECK(!valid("bad\xff"));
	CHECK(!valid("\x80"));             /* a continuation byte alone */
	CHECK(!valid("\xc0\xaf"));         /* overlong '/' */
	CHECK(!valid("\xe0\x80\xaf"));     /* overlong, three bytes */
	CHECK(!valid("\xed\xa0\x80"));     /* a surrogate (U+D800) */
	CHECK(!valid("\xf4\x90\x80\x80")); /* past U+10FFFF */
	CHECK(!valid("\xe2\x82"));         /* cut short */
	/* A length that cuts a character is not valid, and nothing past it is read. */
	CHECK(!jr_utf8_valid("\xc3\xa9", 1));
	CHECK(jr_utf8_valid("\xc3\xa9xyz", 2));
}

static void test_escape_shows_bad_bytes_and_keeps_good_text(void)
{
	char *s = jr_escape("bad\xff.py caf\xc3\xa9\n");

	CHECK_STR(s, "bad\\xff.py caf\xc3\xa9\\x0a");
	free(s);
	s = jr_escape(NULL);
	CHECK_STR(s, "");
	free(s);
	s = jr_escape("\xed\xa0\x80");
	CHECK_STR(s, "\\xed\\xa0\\x80");
	free(s);
}

static void test_json_strings_are_json_whatever_the_bytes(void)
{
	jr_buf b = JR_BUF_INIT;

	CHECK_OK(jr_buf_put_json_string(&b, "a\xff"
	                                    "b \xc3\xa9 \"q\" \x01"));
	CHECK_STR(b.ptr, "\"a\\ufffdb \xc3\xa9 \\\"q\\\" \\u0001\"");
	CHECK(valid(b.ptr));
	CHECK_INT(jr_json_check(b.ptr, NULL, NULL, NULL, 0), 0);
	jr_buf_free(&b);
}

static void test_json_check_refuses_bad_utf8_and_deep_nesting(void)
{
	char why[128];
	char *deep;
	size_t i, n = JR_JSON_CHECK_MAX_DEPTH + 1;

	CHECK_INT(jr_json_check("[\"\xff\"]", NULL, NULL, why, sizeof(why)), JOBREG_EINVAL);
	CHECK_CONTAINS(why, "invalid UTF-8");
	CHECK_INT(jr_json_check("[\"caf\xc3\xa9\"]", NULL, NULL, why, sizeof(why)), 0);

	deep = malloc(2 * n + 1);
	if (!deep)
		return;
	for (i = 0; i < n; i++) {
		deep[i] = '[';
		deep[2 * n - 1 - i] = ']';
	}
	deep[2 * n] = '\0';
	CHECK_INT(jr_json_check(deep, NULL, NULL, why, sizeof(why)), JOBREG_EINVAL);
	CHECK_CONTAINS(why, "nested deeper than 256 levels");
	/* One level less is fine. */
	deep[2 * n - 1] = '\0';
	CHECK_INT(jr_json_check(deep + 1, NULL, NULL, why, sizeof(why)), 0);
	free(deep);
}

static void test_module_names_are_utf8_identifiers(void)
{
	CHECK(jr_is_dotted_name("my_app"));
	CHECK(jr_is_dotted_name("caf\xc3\xa9.jobs")); /* café: Python takes it */
	CHECK(jr_is_dotted_name("\xe6\x97\xa5\xe6\x9c\xac"));
	CHECK(!jr_is_dotted_name("\xff"));
	CHECK(!jr_is_dotted_name("a.\xff"));
	CHECK(!jr_is_dotted_name("price\xe2\x82\xac")); /* € */
	CHECK(!jr_is_dotted_name("\xf0\x9f\x98\x80"));  /* 😀 */
	CHECK(!jr_is_dotted_name("no\xc2\xa0space"));   /* a no-break space */
	CHECK(!jr_is_dotted_name("a\xe2\x80\x94"
	                         "b")); /* an em dash */
	CHECK(!jr_is_dotted_name("1abc"));
	CHECK(!jr_is_dotted_name("a..b"));
	CHECK(!jr_is_dotted_name(""));
	CHECK(!jr_is_dotted_name("class"));
}

static void test_messages_are_utf8_whatever_went_into_them(void)
{
	const char *m;

	jr_error_set(JOBREG_ESTORAGE, "backend said: %s", "bad\xff byte");
	m = jobreg_error_last()->message;
	CHECK(valid(m));
	CHECK_STR(m, "backend said: bad? byte");
	jr_error_wrap(JOBREG_ESTORAGE, "outer \xc3: ");
	m = jobreg_error_last()->message;
	CHECK(valid(m));
	CHECK_CONTAINS(m, "backend said");
}

static const struct jr_test tests[] = {
	JR_TEST(utf8_valid_takes_only_well_formed_text),
	JR_TEST(escape_shows_bad_bytes_and_keeps_good_text),
	JR_TEST(json_strings_are_json_whatever_the_bytes),
	JR_TEST(json_check_refuses_bad_utf8_and_deep_nesting),
	JR_TEST(module_names_are_utf8_identifiers),
	JR_TEST(messages_are_utf8_whatever_went_into_them),
};

JR_TEST_MAIN(tests)
