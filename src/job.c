/*
 * job.c: the public job API (jobreg/job.h): a loaded job's getters, and
 * taking and releasing a reference to it (which holds its part: see
 * generation.h).
 */
#include "error.h"
#include "generation.h"
#include "jobreg/job.h"

/* clang-format off */
const char *jobreg_job_class_path(const jobreg_job *job) { return job ? job->class_path : NULL; }
const char *jobreg_job_module_name(const jobreg_job *job) { return job ? job->module_name : NULL; }
const char *jobreg_job_class_name(const jobreg_job *job) { return job ? job->class_name : NULL; }
jobreg_source_t jobreg_job_source_type(const jobreg_job *job) { return job ? job->part->source_type : 0; }
const char *jobreg_job_source_name(const jobreg_job *job) { return job ? job->part->source_name : NULL; }
const char *jobreg_job_grouping(const jobreg_job *job) { return job ? job->grouping : NULL; }
const char *jobreg_job_name(const jobreg_job *job) { return job ? job->name : NULL; }
const char *jobreg_job_description(const jobreg_job *job) { return job ? job->description : NULL; }
int jobreg_job_hidden(const jobreg_job *job) { return job ? job->hidden : 0; }
int jobreg_job_dryrun_default(const jobreg_job *job) { return job ? job->dryrun_default : 0; }
int jobreg_job_approval_required(const jobreg_job *job) { return job ? job->approval_required : 0; }
int jobreg_job_has_sensitive_variables(const jobreg_job *job) { return job ? job->has_sensitive_variables : 0; }
int jobreg_job_is_singleton(const jobreg_job *job) { return job ? job->is_singleton : 0; }
double jobreg_job_soft_time_limit(const jobreg_job *job) { return job ? job->soft_time_limit : 0.0; }
double jobreg_job_time_limit(const jobreg_job *job) { return job ? job->time_limit : 0.0; }
int jobreg_job_supports_dryrun(const jobreg_job *job) { return job ? job->supports_dryrun : 0; }
const char *jobreg_job_variables_json(const jobreg_job *job) { return job ? job->variables : NULL; }
const char *jobreg_job_code_version(const jobreg_job *job) { return job ? job->part->code_version : NULL; }
/* clang-format on */

/* NULL-terminated (a count per job would cost every job 8 bytes). */
size_t jobreg_job_task_queue_count(const jobreg_job *job)
{
	size_t n = 0;

	if (job && job->task_queues_items)
		while (job->task_queues_items[n])
			n++;
	return n;
}

const char *jobreg_job_task_queue(const jobreg_job *job, size_t i)
{
	return i < jobreg_job_task_queue_count(job) ? job->task_queues_items[i] : NULL;
}

int jobreg_job_dup(jobreg_job **out, const jobreg_job *job)
{
	if (!out || !job)
		return jr_error_set(JOBREG_EINVAL, "jobreg_job_dup: NULL argument");
	jr_part_ref(job->part);
	*out = (jobreg_job *)job;
	return 0;
}

void jobreg_job_free(jobreg_job *job)
{
	if (job)
		jr_part_unref(job->part);
}
