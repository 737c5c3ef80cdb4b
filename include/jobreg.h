/*
 * libjobreg: install, load and register Jobs, and keep them in step with
 * the job records of a host-supplied database.
 *
 * The umbrella header: include this one.
 */
#ifndef JOBREG_H
#define JOBREG_H

#include "jobreg/version.h"
#include "jobreg/common.h"
#include "jobreg/types.h"
#include "jobreg/source.h"
#include "jobreg/job.h"
#include "jobreg/snapshot.h"
#include "jobreg/registry.h"
#include "jobreg/cancel.h"
#include "jobreg/run.h"
#include "jobreg/config.h"
#include "jobreg/git.h"
#include "jobreg/record.h"
#include "jobreg/storage.h"
#include "jobreg/storage_postgresql.h"
#include "jobreg/refresh.h"
#include "jobreg/storage_ops.h"
#include "jobreg/storage_git_state.h"
#include "jobreg/records.h"
#include "jobreg/sync.h"

#endif
