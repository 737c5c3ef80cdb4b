"""jobreg._cdef (the binding): the C declarations it sees: the public headers, for cffi.

This is the one place the binding declares the C API. Prototypes and
structures are copied from ``include/jobreg/*.h`` verbatim (comments left
out), so that ``tests/test_cdef.py`` can compare them with the headers and
fail the moment the two drift apart: every ``JOBREG_EXTERN`` function of the
headers must be declared here with the very same prototype, or be listed in
``NOT_BOUND`` below with the reason it is left out.
"""

# Functions of the public headers that the binding deliberately does not
# declare, each with its reason. Empty in 0.1: the binding covers the whole
# C API. Add a function here only with a comment saying why Python must not
# (or need not) call it.
NOT_BOUND = {
}

CDEF = r"""
/* ---- jobreg/common.h ---- */
typedef enum jobreg_error_code {
	JOBREG_OK = 0,
	JOBREG_ERROR = -1,
	JOBREG_ENOMEM = -2,
	JOBREG_EINVAL = -3,
	JOBREG_ENOTFOUND = -4,
	JOBREG_EAMBIGUOUS = -5,
	JOBREG_EEXISTS = -6,
	JOBREG_EPYTHON = -7,
	JOBREG_EIO = -8,
	JOBREG_ESTORAGE = -9,
	JOBREG_ECONFIG = -10,
	JOBREG_EGIT = -11,
	JOBREG_EAUTH = -12,
	JOBREG_ENOTINSTALLED = -13,
	JOBREG_EDISABLED = -14,
	JOBREG_EVALIDATION = -15,
	JOBREG_EVERSION = -16,
	JOBREG_ESTATE = -17,
	JOBREG_ELOAD = -18,
	JOBREG_ETIMEOUT = -19,
	JOBREG_EUNSUPPORTED = -20,
	JOBREG_EJOBFAILED = -21,
	JOBREG_ECANCELED = -22,
	JOBREG_ITEROVER = -31,
	JOBREG_ERROR_CODE_LAST_ = -32
} jobreg_error_code;

typedef struct jobreg_error {
	int code;
	const char *message;
} jobreg_error;

const jobreg_error *jobreg_error_last(void);
void jobreg_error_clear(void);
const char *jobreg_strerror(int code);
const char *jobreg_error_name(int code);
void jobreg_free(void *ptr);

#define JOBREG_COMPAT_OFF 0
#define JOBREG_COMPAT_AUTO 1
#define JOBREG_COMPAT_1X 2
#define JOBREG_COMPAT_DEFAULT -1

typedef struct jobreg_init_options {
	unsigned int version;
	const char *const *python_path;
	size_t python_path_count;
	int nautobot_compat;
} jobreg_init_options;

#define JOBREG_INIT_OPTIONS_VERSION 1

int jobreg_init_options_init(jobreg_init_options *opts, unsigned int version);
int jobreg_init(const jobreg_init_options *opts);
int jobreg_shutdown(void);

/* ---- jobreg/version.h ---- */
const char *jobreg_version(int *major, int *minor, int *patch);

/* ---- jobreg/types.h ---- */
typedef struct jobreg_registry jobreg_registry;
typedef struct jobreg_source jobreg_source;
typedef struct jobreg_snapshot jobreg_snapshot;
typedef struct jobreg_job jobreg_job;
typedef struct jobreg_load_error jobreg_load_error;

typedef enum jobreg_source_t {
	JOBREG_SOURCE_LOCAL = 1,
	JOBREG_SOURCE_GIT = 2,
	JOBREG_SOURCE_APP = 3
} jobreg_source_t;

typedef struct jobreg_git_credential jobreg_git_credential;
typedef struct jobreg_record jobreg_record;
typedef struct jobreg_record_list jobreg_record_list;
typedef struct jobreg_storage jobreg_storage;
typedef struct jobreg_load_error_list jobreg_load_error_list;
typedef struct jobreg_refresh_result jobreg_refresh_result;
typedef struct jobreg_host_reply jobreg_host_reply;
typedef struct jobreg_run_result jobreg_run_result;
typedef struct jobreg_cancel jobreg_cancel;
typedef struct jobreg_config jobreg_config;

/* ---- jobreg/source.h ---- */
int jobreg_source_dir_new(jobreg_source **out, const char *root);
int jobreg_source_app_new(jobreg_source **out, const char *package);
void jobreg_source_free(jobreg_source *src);
jobreg_source_t jobreg_source_type(const jobreg_source *src);
const char *jobreg_source_type_name(jobreg_source_t type);
const char *jobreg_source_name(const jobreg_source *src);
const char *jobreg_source_root(const jobreg_source *src);
int jobreg_source_set_nautobot_compat(jobreg_source *src, int mode);
int jobreg_source_nautobot_compat(const jobreg_source *src);

/* ---- jobreg/job.h ---- */
const char *jobreg_job_class_path(const jobreg_job *job);
const char *jobreg_job_module_name(const jobreg_job *job);
const char *jobreg_job_class_name(const jobreg_job *job);
jobreg_source_t jobreg_job_source_type(const jobreg_job *job);
const char *jobreg_job_source_name(const jobreg_job *job);
const char *jobreg_job_grouping(const jobreg_job *job);
const char *jobreg_job_name(const jobreg_job *job);
const char *jobreg_job_description(const jobreg_job *job);
int jobreg_job_hidden(const jobreg_job *job);
int jobreg_job_dryrun_default(const jobreg_job *job);
int jobreg_job_approval_required(const jobreg_job *job);
int jobreg_job_has_sensitive_variables(const jobreg_job *job);
int jobreg_job_is_singleton(const jobreg_job *job);
double jobreg_job_soft_time_limit(const jobreg_job *job);
double jobreg_job_time_limit(const jobreg_job *job);
size_t jobreg_job_task_queue_count(const jobreg_job *job);
const char *jobreg_job_task_queue(const jobreg_job *job, size_t i);
int jobreg_job_supports_dryrun(const jobreg_job *job);
const char *jobreg_job_variables_json(const jobreg_job *job);
const char *jobreg_job_code_version(const jobreg_job *job);
int jobreg_job_dup(jobreg_job **out, const jobreg_job *job);
void jobreg_job_free(jobreg_job *job);

/* ---- jobreg/registry.h ---- */
typedef struct jobreg_registry_options {
	unsigned int version;
	unsigned int import_timeout_ms;
	int isolation;
	unsigned int workers;
	unsigned int worker_memory_limit_mb;
} jobreg_registry_options;

typedef enum jobreg_isolation {
	JOBREG_ISOLATION_NONE = 0,
	JOBREG_ISOLATION_PROCESS = 1
} jobreg_isolation;

#define JOBREG_REGISTRY_OPTIONS_VERSION 2

int jobreg_registry_options_init(jobreg_registry_options *opts, unsigned int version);
int jobreg_registry_new(jobreg_registry **out, const jobreg_registry_options *opts);
void jobreg_registry_free(jobreg_registry *reg);
int jobreg_registry_add_source(jobreg_registry *reg, jobreg_source *src);
int jobreg_registry_remove_source(jobreg_registry *reg, jobreg_source *src);
size_t jobreg_registry_source_count(const jobreg_registry *reg);
jobreg_source *jobreg_registry_source(const jobreg_registry *reg, size_t i);
int jobreg_registry_load(jobreg_registry *reg);
int jobreg_registry_reload(jobreg_registry *reg);
int jobreg_registry_snapshot(jobreg_snapshot **out, jobreg_registry *reg);
int jobreg_registry_resolve(jobreg_job **out, jobreg_registry *reg, const char *ref);

/* ---- jobreg/snapshot.h ---- */
uint64_t jobreg_snapshot_generation(const jobreg_snapshot *snap);
size_t jobreg_snapshot_job_count(const jobreg_snapshot *snap);
const jobreg_job *jobreg_snapshot_job(const jobreg_snapshot *snap, size_t i);
int jobreg_snapshot_resolve(const jobreg_job **out, const jobreg_snapshot *snap, const char *ref);
size_t jobreg_snapshot_load_error_count(const jobreg_snapshot *snap);
const jobreg_load_error *jobreg_snapshot_load_error(const jobreg_snapshot *snap, size_t i);
size_t jobreg_snapshot_memory(const jobreg_snapshot *snap);
void jobreg_snapshot_free(jobreg_snapshot *snap);
jobreg_source_t jobreg_load_error_source_type(const jobreg_load_error *err);
const char *jobreg_load_error_source(const jobreg_load_error *err);
const char *jobreg_load_error_module(const jobreg_load_error *err);
const char *jobreg_load_error_file(const jobreg_load_error *err);
int jobreg_load_error_line(const jobreg_load_error *err);
const char *jobreg_load_error_type(const jobreg_load_error *err);
const char *jobreg_load_error_message(const jobreg_load_error *err);
const char *jobreg_load_error_traceback(const jobreg_load_error *err);

/* ---- jobreg/record.h (jobreg/records.h includes it and the four below) ---- */
typedef enum jobreg_field {
	JOBREG_FIELD_ID = 0,
	JOBREG_FIELD_MODULE_NAME = 1,
	JOBREG_FIELD_JOB_CLASS_NAME = 2,
	JOBREG_FIELD_CLASS_PATH = 3,
	JOBREG_FIELD_SOURCE_TYPE = 4,
	JOBREG_FIELD_SOURCE = 5,
	JOBREG_FIELD_GROUPING = 6,
	JOBREG_FIELD_NAME = 7,
	JOBREG_FIELD_DESCRIPTION = 8,
	JOBREG_FIELD_INSTALLED = 9,
	JOBREG_FIELD_ENABLED = 10,
	JOBREG_FIELD_HIDDEN = 11,
	JOBREG_FIELD_DRYRUN_DEFAULT = 12,
	JOBREG_FIELD_APPROVAL_REQUIRED = 13,
	JOBREG_FIELD_HAS_SENSITIVE_VARIABLES = 14,
	JOBREG_FIELD_SOFT_TIME_LIMIT = 15,
	JOBREG_FIELD_TIME_LIMIT = 16,
	JOBREG_FIELD_TASK_QUEUES = 17,
	JOBREG_FIELD_IS_SINGLETON = 18,
	JOBREG_FIELD_SUPPORTS_DRYRUN = 19,
	JOBREG_FIELD_VARIABLES = 20,
	JOBREG_FIELD_GROUPING_OVERRIDE = 21,
	JOBREG_FIELD_NAME_OVERRIDE = 22,
	JOBREG_FIELD_DESCRIPTION_OVERRIDE = 23,
	JOBREG_FIELD_HIDDEN_OVERRIDE = 24,
	JOBREG_FIELD_DRYRUN_DEFAULT_OVERRIDE = 25,
	JOBREG_FIELD_APPROVAL_REQUIRED_OVERRIDE = 26,
	JOBREG_FIELD_HAS_SENSITIVE_VARIABLES_OVERRIDE = 27,
	JOBREG_FIELD_SOFT_TIME_LIMIT_OVERRIDE = 28,
	JOBREG_FIELD_TIME_LIMIT_OVERRIDE = 29,
	JOBREG_FIELD_IS_SINGLETON_OVERRIDE = 30
} jobreg_field;

typedef enum jobreg_field_kind {
	JOBREG_FIELD_KIND_TEXT = 1,
	JOBREG_FIELD_KIND_BOOL = 2,
	JOBREG_FIELD_KIND_REAL = 3
} jobreg_field_kind;

int jobreg_record_new(jobreg_record **out);
int jobreg_record_dup(jobreg_record **out, const jobreg_record *rec);
void jobreg_record_free(jobreg_record *rec);
size_t jobreg_record_field_count(void);
const char *jobreg_record_field_name(jobreg_field field);
jobreg_field_kind jobreg_record_field_kind(jobreg_field field);
int jobreg_record_field_by_name(jobreg_field *out, const char *name);
const char *jobreg_record_text(const jobreg_record *rec, jobreg_field field);
int jobreg_record_bool(const jobreg_record *rec, jobreg_field field);
double jobreg_record_real(const jobreg_record *rec, jobreg_field field);
int jobreg_record_set_text(jobreg_record *rec, jobreg_field field, const char *value);
int jobreg_record_set_bool(jobreg_record *rec, jobreg_field field, int value);
int jobreg_record_set_real(jobreg_record *rec, jobreg_field field, double value);
int jobreg_record_to_json(char **out, const jobreg_record *rec);
size_t jobreg_record_list_count(const jobreg_record_list *list);
const jobreg_record *jobreg_record_list_get(const jobreg_record_list *list, size_t i);
int jobreg_record_list_to_json(char **out, const jobreg_record_list *list);
void jobreg_record_list_free(jobreg_record_list *list);

/* ---- jobreg/storage.h ---- */
int jobreg_storage_memory_new(jobreg_storage **out);

typedef struct jobreg_sqlite_options {
	unsigned int version;
	unsigned int busy_timeout_ms;
} jobreg_sqlite_options;

#define JOBREG_SQLITE_OPTIONS_VERSION 1

int jobreg_sqlite_options_init(jobreg_sqlite_options *opts, unsigned int version);
int jobreg_storage_sqlite_open(jobreg_storage **out, const char *path, const jobreg_sqlite_options *opts);
void jobreg_storage_free(jobreg_storage *st);

/* ---- jobreg/storage_postgresql.h ---- */
typedef struct jobreg_storage_postgresql_options {
	unsigned int version;
	const char *schema;
	unsigned int connect_timeout_s;
} jobreg_storage_postgresql_options;

#define JOBREG_STORAGE_POSTGRESQL_OPTIONS_VERSION 1

int jobreg_storage_postgresql_options_init(jobreg_storage_postgresql_options *opts, unsigned int version);
int jobreg_storage_postgresql_new(jobreg_storage **out, const char *conninfo, const jobreg_storage_postgresql_options *opts);

/* ---- jobreg/refresh.h ---- */
typedef struct jobreg_refresh_options {
	unsigned int version;
	int source_type;
	const char *source_name;
} jobreg_refresh_options;

#define JOBREG_REFRESH_OPTIONS_VERSION 1

int jobreg_refresh_options_init(jobreg_refresh_options *opts, unsigned int version);
int jobreg_refresh(jobreg_refresh_result **out, jobreg_storage *st, const jobreg_snapshot *snap, const jobreg_refresh_options *opts);
size_t jobreg_refresh_result_created_count(const jobreg_refresh_result *res);
const char *jobreg_refresh_result_created(const jobreg_refresh_result *res, size_t i);
size_t jobreg_refresh_result_updated_count(const jobreg_refresh_result *res);
const char *jobreg_refresh_result_updated(const jobreg_refresh_result *res, size_t i);
size_t jobreg_refresh_result_uninstalled_count(const jobreg_refresh_result *res);
const char *jobreg_refresh_result_uninstalled(const jobreg_refresh_result *res, size_t i);
size_t jobreg_refresh_result_unchanged(const jobreg_refresh_result *res);
size_t jobreg_refresh_result_writes(const jobreg_refresh_result *res);
void jobreg_refresh_result_free(jobreg_refresh_result *res);

/* ---- jobreg/storage_ops.h ---- */
typedef enum jobreg_installed_filter {
	JOBREG_INSTALLED_ALL = 0,
	JOBREG_INSTALLED_YES = 1,
	JOBREG_INSTALLED_NO = 2
} jobreg_installed_filter;

typedef struct jobreg_record_filter {
	unsigned int version;
	const char *source_type;
	const char *source_name;
	jobreg_installed_filter installed;
	int enabled;
	size_t offset;
	size_t limit;
} jobreg_record_filter;

#define JOBREG_RECORD_FILTER_VERSION 1

int jobreg_record_filter_init(jobreg_record_filter *filter, unsigned int version);
int jobreg_storage_list_filtered(jobreg_record_list **out, jobreg_storage *st, const jobreg_record_filter *filter);
int jobreg_storage_load_errors(jobreg_load_error_list **out, jobreg_storage *st, const jobreg_record_filter *filter);
size_t jobreg_load_error_list_count(const jobreg_load_error_list *list);
const char *jobreg_load_error_list_source_type(const jobreg_load_error_list *list, size_t i);
const char *jobreg_load_error_list_source(const jobreg_load_error_list *list, size_t i);
const char *jobreg_load_error_list_module(const jobreg_load_error_list *list, size_t i);
const char *jobreg_load_error_list_file(const jobreg_load_error_list *list, size_t i);
int jobreg_load_error_list_line(const jobreg_load_error_list *list, size_t i);
const char *jobreg_load_error_list_type(const jobreg_load_error_list *list, size_t i);
const char *jobreg_load_error_list_message(const jobreg_load_error_list *list, size_t i);
const char *jobreg_load_error_list_traceback(const jobreg_load_error_list *list, size_t i);
const char *jobreg_load_error_list_when(const jobreg_load_error_list *list, size_t i);
void jobreg_load_error_list_free(jobreg_load_error_list *list);
int jobreg_storage_list(jobreg_record_list **out, jobreg_storage *st, jobreg_installed_filter which);
int jobreg_storage_get(jobreg_record **out, jobreg_storage *st, const char *ref);
int jobreg_storage_set_enabled(jobreg_storage *st, const char *id, int enabled);
int jobreg_storage_override_text(jobreg_storage *st, const char *id, jobreg_field field, const char *value);
int jobreg_storage_override_bool(jobreg_storage *st, const char *id, jobreg_field field, int value);
int jobreg_storage_override_real(jobreg_storage *st, const char *id, jobreg_field field, double value);
int jobreg_storage_override_clear(jobreg_storage *st, const char *id, jobreg_field field);
int jobreg_storage_delete(jobreg_storage *st, const char *id, int force);
int jobreg_storage_migrate_source(size_t *migrated, jobreg_storage *st, const char *old_name, const char *new_name);
int jobreg_storage_retire_source(size_t *retired, jobreg_storage *st, const char *source_type, const char *source_name);

/* ---- jobreg/runs.h ---- */
typedef struct jobreg_run_list jobreg_run_list;

typedef struct jobreg_run_filter {
	unsigned int version;
	const char *id;
	const char *job_id;
	const char *status;
	size_t offset;
	size_t limit;
} jobreg_run_filter;

#define JOBREG_RUN_FILTER_VERSION 1

int jobreg_run_filter_init(jobreg_run_filter *filter, unsigned int version);
int jobreg_storage_runs(jobreg_run_list **out, jobreg_storage *st, const jobreg_run_filter *filter);
size_t jobreg_run_list_count(const jobreg_run_list *list);
const char *jobreg_run_list_id(const jobreg_run_list *list, size_t i);
const char *jobreg_run_list_job_id(const jobreg_run_list *list, size_t i);
const char *jobreg_run_list_class_path(const jobreg_run_list *list, size_t i);
const char *jobreg_run_list_source_type(const jobreg_run_list *list, size_t i);
const char *jobreg_run_list_source(const jobreg_run_list *list, size_t i);
const char *jobreg_run_list_code_version(const jobreg_run_list *list, size_t i);
const char *jobreg_run_list_status(const jobreg_run_list *list, size_t i);
const char *jobreg_run_list_started(const jobreg_run_list *list, size_t i);
const char *jobreg_run_list_finished(const jobreg_run_list *list, size_t i);
const char *jobreg_run_list_result_json(const jobreg_run_list *list, size_t i);
const char *jobreg_run_list_error_type(const jobreg_run_list *list, size_t i);
const char *jobreg_run_list_error_message(const jobreg_run_list *list, size_t i);
const char *jobreg_run_list_host_json(const jobreg_run_list *list, size_t i);
void jobreg_run_list_free(jobreg_run_list *list);

/* ---- jobreg/storage_git_state.h ---- */
int jobreg_storage_git_state_get(char **remote_url, char **branch, char **current_head, jobreg_storage *st, const char *slug);
int jobreg_storage_git_state_set(jobreg_storage *st, const char *slug, const char *remote_url, const char *branch, const char *current_head);

/* ---- jobreg/sys/storage.h ---- */
#define JOBREG_STORAGE_BEGIN_WRITE 1

typedef int (*jobreg_storage_emit_fn)(jobreg_record *rec, void *emit_payload);

typedef struct jobreg_load_error_row {
	const char *source_type;
	const char *source_name;
	const char *module;
	const char *file;
	int line;
	const char *type;
	const char *message;
	const char *traceback;
	const char *when;
} jobreg_load_error_row;

typedef int (*jobreg_storage_load_error_emit_fn)(const jobreg_load_error_row *row,
                                                 void *emit_payload);

typedef struct jobreg_run_row {
	const char *id;
	const char *job_id;
	const char *class_path;
	const char *source_type;
	const char *source_name;
	const char *code_version;
	const char *status;
	const char *started;
	const char *finished;
	const char *result_json;
	const char *error_type;
	const char *error_message;
	const char *host_json;
} jobreg_run_row;

typedef int (*jobreg_storage_run_emit_fn)(const jobreg_run_row *row, void *emit_payload);

typedef struct jobreg_storage_backend {
	unsigned int version;
	int (*begin)(unsigned int flags, void *payload);
	int (*commit)(void *payload);
	int (*rollback)(void *payload);
	int (*read_records)(jobreg_storage_emit_fn emit, void *emit_payload, void *payload);
	int (*write_record)(const jobreg_record *rec, void *payload);
	int (*delete_record)(const char *id, void *payload);
	int (*git_state_read)(const char **remote_url, const char **branch,
	                      const char **current_head, const char *slug, void *payload);
	int (*git_state_write)(const char *slug, const char *remote_url, const char *branch,
	                       const char *current_head, void *payload);
	void (*free_payload)(void *payload);
	int (*source_state_read)(const char **state, const char *source_type,
	                         const char *source_name, void *payload);
	int (*source_state_write)(const char *source_type, const char *source_name,
	                          const char *state, void *payload);
	int (*get_record_by_id)(jobreg_record **out, const char *id, void *payload);
	int (*get_record_by_class)(jobreg_record **out, const char *module_name,
	                           const char *job_class_name, void *payload);
	int (*list_records)(jobreg_storage_emit_fn emit, void *emit_payload,
	                    const jobreg_record_filter *filter, void *payload);
	int (*load_errors_replace)(const char *source_type, const char *source_name,
	                           const jobreg_load_error_row *rows, size_t count, void *payload);
	int (*load_errors_read)(jobreg_storage_load_error_emit_fn emit, void *emit_payload,
	                        const char *source_type, const char *source_name, void *payload);
	int (*run_write)(const jobreg_run_row *row, void *payload);
	int (*runs_read)(jobreg_storage_run_emit_fn emit, void *emit_payload,
	                 const jobreg_run_filter *filter, void *payload);
} jobreg_storage_backend;

#define JOBREG_STORAGE_BACKEND_VERSION 3

int jobreg_storage_new(jobreg_storage **out, const jobreg_storage_backend *backend, void *payload);
int jobreg_storage_error_set(int code, const char *message);

/* ---- jobreg/sync.h ---- */
typedef struct jobreg_sync_options {
	unsigned int version;
	int full;
} jobreg_sync_options;

#define JOBREG_SYNC_OPTIONS_VERSION 1

int jobreg_sync_options_init(jobreg_sync_options *opts, unsigned int version);
int jobreg_registry_sync(jobreg_refresh_result **out, jobreg_registry *reg, jobreg_storage *st, const jobreg_sync_options *opts);
size_t jobreg_refresh_result_skipped_count(const jobreg_refresh_result *res);

/* ---- jobreg/cancel.h ---- */
int jobreg_cancel_new(jobreg_cancel **out);
void jobreg_cancel_request(jobreg_cancel *c);
int jobreg_cancel_requested(const jobreg_cancel *c);
void jobreg_cancel_free(jobreg_cancel *c);

/* ---- jobreg/run.h ---- */
#define JOBREG_LOG_DEBUG 10
#define JOBREG_LOG_INFO 20
#define JOBREG_LOG_WARNING 30
#define JOBREG_LOG_ERROR 40
#define JOBREG_LOG_CRITICAL 50

typedef void (*jobreg_log_fn)(int level, const char *level_name, const char *message,
                              const char *extra_json, void *payload);

typedef int (*jobreg_file_fn)(const char *name, const unsigned char *data, size_t size,
                              void *payload);

typedef int (*jobreg_host_fn)(jobreg_host_reply *reply, const char *operation,
                              const char *args_json, void *payload);

int jobreg_host_reply_set_json(jobreg_host_reply *reply, const char *json);
int jobreg_host_reply_set_error(jobreg_host_reply *reply, const char *message);

typedef struct jobreg_run_options {
	unsigned int version;
	const char *data_json;
	jobreg_log_fn log;
	void *log_payload;
	const char *context_json;
	jobreg_file_fn file;
	void *file_payload;
	jobreg_host_fn host;
	void *host_payload;
	jobreg_cancel *cancel;
	double default_soft_time_limit;
	double default_time_limit;
	jobreg_storage *run_storage;
	const char *run_id;
	const char *host_json;
} jobreg_run_options;

#define JOBREG_RUN_OPTIONS_VERSION 4

int jobreg_run_options_init(jobreg_run_options *opts, unsigned int version);

typedef enum jobreg_run_status {
	JOBREG_RUN_SUCCESS = 1,
	JOBREG_RUN_FAILED = 2
} jobreg_run_status;

int jobreg_job_run(jobreg_run_result **out, const jobreg_job *job, const jobreg_record *record, const jobreg_run_options *opts);
int jobreg_run(jobreg_run_result **out, jobreg_registry *reg, jobreg_storage *st, const char *ref, const jobreg_run_options *opts);
jobreg_run_status jobreg_run_result_status(const jobreg_run_result *res);
const char *jobreg_run_result_json(const jobreg_run_result *res);
const char *jobreg_run_result_error_type(const jobreg_run_result *res);
const char *jobreg_run_result_error_message(const jobreg_run_result *res);
const char *jobreg_run_result_traceback(const jobreg_run_result *res);
const char *jobreg_run_result_run_id(const jobreg_run_result *res);
const char *jobreg_run_result_record_error(const jobreg_run_result *res);
size_t jobreg_run_result_file_count(const jobreg_run_result *res);
const char *jobreg_run_result_file_name(const jobreg_run_result *res, size_t i);
const unsigned char *jobreg_run_result_file_data(const jobreg_run_result *res, size_t i, size_t *size);
int jobreg_run_result_to_json(char **out, const jobreg_run_result *res);
void jobreg_run_result_free(jobreg_run_result *res);

/* ---- jobreg/git.h ---- */
#define JOBREG_GIT_HEAD_SIZE 41
#define JOBREG_GIT_SLUG_MAX 100
#define JOBREG_GIT_CREDENTIAL_USERPASS 1
#define JOBREG_GIT_CREDENTIAL_SSH_KEY 2
#define JOBREG_GIT_CREDENTIAL_USERNAME 4

typedef int (*jobreg_git_credentials_cb)(jobreg_git_credential *out, const char *url,
                                         const char *username_from_url,
                                         unsigned int allowed_types, void *payload);

int jobreg_git_credential_set_userpass(jobreg_git_credential *cred, const char *username, const char *password);
int jobreg_git_credential_set_token(jobreg_git_credential *cred, const char *token);
int jobreg_git_credential_set_ssh_key(jobreg_git_credential *cred, const char *username, const char *public_key_path, const char *private_key_path, const char *passphrase);
int jobreg_git_credential_set_ssh_agent(jobreg_git_credential *cred, const char *username);
int jobreg_git_credential_set_username(jobreg_git_credential *cred, const char *username);

#define JOBREG_GIT_STAGE_RECEIVING 1
#define JOBREG_GIT_STAGE_RESOLVING 2
#define JOBREG_GIT_STAGE_CHECKOUT 3

typedef struct jobreg_git_progress {
	unsigned int version;
	unsigned int stage;
	size_t current;
	size_t total;
	uint64_t received_bytes;
} jobreg_git_progress;

#define JOBREG_GIT_PROGRESS_VERSION 1

typedef int (*jobreg_git_progress_cb)(const jobreg_git_progress *progress, void *payload);

typedef struct jobreg_git_options {
	unsigned int version;
	const char *slug;
	const char *remote_url;
	const char *branch;
	const char *git_root;
	jobreg_git_credentials_cb credentials;
	jobreg_git_progress_cb progress;
	void *payload;
} jobreg_git_options;

#define JOBREG_GIT_OPTIONS_VERSION 1

int jobreg_git_options_init(jobreg_git_options *opts, unsigned int version);
int jobreg_git_slug_check(const char *slug);
int jobreg_source_git_new(jobreg_source **out, const jobreg_git_options *opts);
const char *jobreg_source_git_remote_url(const jobreg_source *src);
const char *jobreg_source_git_branch(const jobreg_source *src);
int jobreg_source_git_head(char out[JOBREG_GIT_HEAD_SIZE], const jobreg_source *src);
int jobreg_source_git_refused(jobreg_snapshot **out, char commit[JOBREG_GIT_HEAD_SIZE], const jobreg_source *src);

typedef struct jobreg_git_sync_result {
	unsigned int version;
	char old_head[JOBREG_GIT_HEAD_SIZE];
	char new_head[JOBREG_GIT_HEAD_SIZE];
	int changed;
	jobreg_refresh_result *refresh;
} jobreg_git_sync_result;

#define JOBREG_GIT_SYNC_RESULT_VERSION 1

int jobreg_git_sync(jobreg_git_sync_result *result, jobreg_registry *reg, jobreg_source *src, jobreg_storage *st);
int jobreg_git_record_head(jobreg_storage *st, const jobreg_source *src);
int jobreg_git_ensure_head(int *changed, jobreg_registry *reg, jobreg_source *src, const char *commit);
int jobreg_git_ensure_recorded_head(int *changed, jobreg_registry *reg, jobreg_source *src, jobreg_storage *st);
int jobreg_git_redact_url(char **out, const char *url);

/* ---- jobreg/config.h ---- */
int jobreg_config_load(jobreg_config **out, const char *path);
int jobreg_config_parse(jobreg_config **out, const char *text, size_t len, const char *base_dir, const char *name_for_errors);
void jobreg_config_free(jobreg_config *cfg);
const char *jobreg_config_path(const jobreg_config *cfg);
const char *jobreg_config_dir(const jobreg_config *cfg);
const char *jobreg_config_jobs_root(const jobreg_config *cfg);
const char *jobreg_config_git_root(const jobreg_config *cfg);
const char *jobreg_config_database(const jobreg_config *cfg);
const char *jobreg_config_database_password_env(const jobreg_config *cfg);
size_t jobreg_config_python_path_count(const jobreg_config *cfg);
const char *jobreg_config_python_path(const jobreg_config *cfg, size_t i);
int jobreg_config_nautobot_compat(const jobreg_config *cfg);
double jobreg_config_import_timeout(const jobreg_config *cfg);
int jobreg_config_isolation(const jobreg_config *cfg);
unsigned int jobreg_config_workers(const jobreg_config *cfg);
unsigned int jobreg_config_worker_memory_limit_mb(const jobreg_config *cfg);
size_t jobreg_config_git_repository_count(const jobreg_config *cfg);
const char *jobreg_config_git_repository_slug(const jobreg_config *cfg, size_t i);
const char *jobreg_config_git_repository_remote_url(const jobreg_config *cfg, size_t i);
const char *jobreg_config_git_repository_branch(const jobreg_config *cfg, size_t i);
const char *jobreg_config_git_repository_token_env(const jobreg_config *cfg, size_t i);
int jobreg_config_git_repository_nautobot_compat(const jobreg_config *cfg, size_t i);
size_t jobreg_config_app_count(const jobreg_config *cfg);
const char *jobreg_config_app(const jobreg_config *cfg, size_t i);
int jobreg_config_locate(unsigned int *line, unsigned int *column, const jobreg_config *cfg, const char *key);
"""
