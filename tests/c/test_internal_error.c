/*
 * test_internal_error.c: keeping an error across a rollback or an undo
 * (src/error.h: jr_error_save, jr_error_restore, jr_error_wrap), the one
 * way the library does it.
 */
#include <jobreg.h>
#include <string.h>

#include "error.h"
#include "harness.h"

static void test_a_saved_error_survives_the_errors_of_an_undo(void)
{
	jr_saved_error saved;

	jr_error_set(JOBREG_ELOAD, "the new code of 'x' fails to load");
	jr_error_save(&saved, JOBREG_ELOAD);
	jr_error_set(JOBREG_EIO, "the undo failed too");
	CHECK_INT(jr_error_restore(&saved), JOBREG_ELOAD);
	CHECK_INT(jobreg_error_last()->code, JOBREG_ELOAD);
	CHECK_STR(jobreg_error_last()->message, "the new code of 'x' fails to load");
}

static void test_saving_a_code_the_last_error_is_not_keeps_that_codes_text(void)
{
	jr_saved_error saved;

	jr_error_set(JOBREG_EIO, "unrelated");
	jr_error_save(&saved, JOBREG_ENOMEM);
	CHECK_INT(jr_error_restore(&saved), JOBREG_ENOMEM);
	CHECK_STR(jobreg_error_last()->message, jobreg_strerror(JOBREG_ENOMEM));
}

static void test_wrap_puts_a_prefix_before_the_last_message(void)
{
	jr_error_set(JOBREG_EINVAL, "must be a JSON array");
	CHECK_INT(jr_error_wrap(JOBREG_ESTORAGE, "record %s: ", "abc"), JOBREG_ESTORAGE);
	CHECK_INT(jobreg_error_last()->code, JOBREG_ESTORAGE);
	CHECK_STR(jobreg_error_last()->message, "record abc: must be a JSON array");
}

static void test_a_long_message_is_cut_never_overrun(void)
{
	char big[JR_ERROR_MESSAGE_MAX * 2];
	jr_saved_error saved;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	jr_error_set(JOBREG_EIO, "%s", big);
	jr_error_wrap(JOBREG_EIO, "prefix: ");
	CHECK_INT((int)strlen(jobreg_error_last()->message), JR_ERROR_MESSAGE_MAX - 1);
	CHECK(strncmp(jobreg_error_last()->message, "prefix: xxx", 11) == 0);
	jr_error_save(&saved, JOBREG_EIO);
	CHECK_INT((int)strlen(saved.message), JR_ERROR_MESSAGE_MAX - 1);
}

static const struct jr_test tests[] = {
	JR_TEST(a_saved_error_survives_the_errors_of_an_undo),
	JR_TEST(saving_a_code_the_last_error_is_not_keeps_that_codes_text),
	JR_TEST(wrap_puts_a_prefix_before_the_last_message),
	JR_TEST(a_long_message_is_cut_never_overrun),
};

JR_SUITE_MAIN(tests, NULL, NULL)
