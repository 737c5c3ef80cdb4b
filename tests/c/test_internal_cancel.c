/*
 * test_internal_cancel.c: a cancel token's file descriptor (src/cancel.h),
 * what the isolation code polls: readable once requested, and for good.
 */
#include <jobreg.h>
#include <poll.h>

#include "cancel.h"
#include "harness.h"

/* 1 when `fd` is readable now, 0 when not, -1 on error. */
static int readable(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	int n = poll(&p, 1, 0);

	return n < 0 ? -1 : n > 0 && (p.revents & POLLIN) ? 1 : 0;
}

static void test_the_fd_becomes_readable_on_request_and_stays(void)
{
	jobreg_cancel *c = NULL;
	int fd;

	CHECK_OK(jobreg_cancel_new(&c));
	fd = jr_cancel_fd(c);
	CHECK(fd >= 0);
	CHECK_INT(readable(fd), 0);
	jobreg_cancel_request(c);
	CHECK_INT(readable(fd), 1);
	jobreg_cancel_request(c);
	CHECK_INT(readable(fd), 1); /* nobody drains it */
	CHECK_INT(jr_cancel_fd(c), fd);
	jobreg_cancel_free(c);
}

static void test_a_null_token_has_no_fd(void)
{
	CHECK_INT(jr_cancel_fd(NULL), -1);
}

static const struct jr_test tests[] = {
	JR_TEST(the_fd_becomes_readable_on_request_and_stays),
	JR_TEST(a_null_token_has_no_fd),
};

JR_TEST_MAIN(tests)
