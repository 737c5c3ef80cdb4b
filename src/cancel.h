/* cancel.h: what the library sees of a cancel token (internal). */
#ifndef JR_CANCEL_H
#define JR_CANCEL_H

#include "jobreg/cancel.h"

/*
 * A file descriptor that becomes readable once `c` is requested, and stays
 * readable (nobody reads it), for poll(); -1 for NULL. Owned by the token:
 * never close it. In a forked child it is still the token's: a request in
 * the parent makes it readable in the child too.
 */
int jr_cancel_fd(const jobreg_cancel *c);

#endif
