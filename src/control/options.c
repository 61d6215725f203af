/*
 * options.c: GET /api/v1/options (docs/api.md): the property tables of the spec's
 * options and of the URL parameters (engine/options.h), which the web UI validates its
 * forms with. Constant data: no lock, no store.
 */
#include "control/ctl.h"
#include "engine/options.h"

int sl_ctl_options(sl_ctl_t *ctl, const sl_req_t *req, sl_resp_t *resp, sl_api_err_t *e)
{
    resp->body = sl_options_json();
    return 0;
}
