/*
 * check.c: POST /api/v1/check[?scan=true] (docs/api.md "Check"): a stream spec in, the
 * report of `sluice check --json` out (engine/check.h, docs/mapping.md "sluice check").
 * It writes nothing anywhere. Stored connections named in the spec are resolved as for a
 * run; the check runs on this worker thread (the HTTP thread never waits, http_async.c)
 * and every secret of the spec is scrubbed from the report before it is sent.
 *
 * 200 with the report whether or not the job would run ("would_run" says); 400 for a
 * spec that does not parse, as POST /api/v1/streams answers it.
 */
#include <stdlib.h>
#include <string.h>

#include "control/ctl.h"
#include "control/secret.h"
#include "engine/check.h"
#include "engine/spec.h"

int sl_ctl_check(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    bool scan;
    if (sl_req_bool(req->query(req->qctx, "scan"), false, &scan, "scan", e))
        return -1;
    if (!req->body)
        return sl_api_err_set(e, 400, "bad_json", "a check needs a stream spec as a JSON body");
    if (sl_req_stream(req->body, e))
        return -1;
    char **secrets = NULL;
    sl_spec_t *spec = NULL;
    json_t *resolved = sl_ctl_spec_resolve(ctl, req->body, &secrets, &spec, e);
    if (!resolved)
        return -1;
    json_decref(resolved);
    json_t *report = NULL;
    sl_err_t err = {0};
    int rc = sl_check_run(spec, scan, &report, &err);
    sl_spec_free(spec);
    if (rc < 0) {
        sl_secret_list_free(secrets);
        json_decref(report);
        return sl_ctl_err(e, 500, "internal", &err);
    }
    /* a server's message may quote what it was given: no secret leaves in the report */
    char *text = json_dumps(report, JSON_COMPACT);
    json_decref(report);
    char *clean = sl_secret_scrub(text, (const char *const *)secrets);
    sl_secret_free(text);
    sl_secret_list_free(secrets);
    resp->body = json_loads(clean, 0, NULL);
    free(clean);
    if (!resp->body)
        return sl_api_err_set(e, 500, "internal", "the check report could not be encoded");
    resp->status = 200;
    return 0;
}
