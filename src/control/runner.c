/*
 * runner.c: stream child processes (see runner.h).
 */
#define _GNU_SOURCE
#include "control/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control/secret.h"
#include "core/clock.h"
#include "core/url.h"
#include "model/schema.h"

#define LINE_MAX_BYTES 4096

typedef struct child {
    struct child *next;
    char *id;
    char *label;
    char **argv;    /* exe, args…, NULL */
    char **secrets; /* NULL-terminated */
    char *in;       /* the spec for stdin, written then freed */
    size_t inlen, inoff;
    char *fd3;      /* the text on fd 3 (NULL: none), written at the fork */
    int pending_sig; /* a signal asked for before the fork, sent right after it */
    pid_t pid;      /* 0 until forked */
    int infd, errfd;
    bool eof, reaped, up, failed;
    int code;
    struct timespec started;
    char line[LINE_MAX_BYTES];
    size_t linelen;
    json_t *last_err;
} child_t;

typedef struct event {
    int kind; /* 0 line, 1 up, 2 exit */
    char *id, *label, *level, *msg;
    int code;
    json_t *err;
} event_t;

struct sl_runner {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int wake[2];
    bool stopping;
    char *exe;
    sl_runner_cb_t cb;
    child_t *children;
    event_t *ev;
    int nev, capev;
};

static void push_ev(sl_runner_t *r, int kind, const child_t *c, const char *level, const char *msg,
                    int code, json_t *err)
{
    if (r->nev == r->capev) {
        r->capev = r->capev ? 2 * r->capev : 16;
        r->ev = realloc(r->ev, sizeof *r->ev * (size_t)r->capev);
        if (!r->ev)
            sl_oom();
    }
    r->ev[r->nev++] = (event_t){kind, sl_strdup(c->id), sl_strdup(c->label),
                                level ? sl_strdup(level) : NULL, msg ? sl_strdup(msg) : NULL, code, err};
}

static void wake(sl_runner_t *r)
{
    char c = 1;
    ssize_t w = write(r->wake[1], &c, 1);
    (void)w;
}

static void free_strv(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

static void child_free(child_t *c)
{
    free(c->id);
    free(c->label);
    free_strv(c->argv);
    for (char **p = c->secrets; p && *p; p++)
        memset(*p, 0, strlen(*p));
    free_strv(c->secrets);
    if (c->in)
        memset(c->in, 0, c->inlen);
    free(c->in);
    if (c->fd3)
        memset(c->fd3, 0, strlen(c->fd3));
    free(c->fd3);
    if (c->infd >= 0)
        close(c->infd);
    if (c->errfd >= 0)
        close(c->errfd);
    json_decref(c->last_err);
    free(c);
}

static double since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* Environment variables that hold secrets: a child never inherits them (the stream's
 * own credentials among them reach it on fd 3, see runner.h). */
static const char *const secret_env[] = {"SLUICE_API_KEY",        "SLUICE_SECRET_KEY", "SLUICE_URL",
                                         "AWS_ACCESS_KEY_ID",     "AWS_SECRET_ACCESS_KEY",
                                         "AWS_SESSION_TOKEN",     "PGPASSWORD",        "MYSQL_PWD",
                                         NULL};

const char *const *sl_runner_secret_env(void) { return secret_env; }

/* The environment of a child: this process's without secret_env (a new array of
 * borrowed strings; free the array only). */
static char **child_env(void)
{
    extern char **environ;
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 1, sizeof *env);
    if (!env)
        sl_oom();
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool secret = false;
        for (int j = 0; secret_env[j] && !secret; j++) {
            size_t l = strlen(secret_env[j]);
            secret = !strncmp(environ[i], secret_env[j], l) && environ[i][l] == '=';
        }
        if (!secret)
            env[k++] = environ[i];
    }
    return env;
}

/* A pipe whose read end holds text (at most a pipe's capacity; the write end is closed):
 * the read end, or -1. */
static int text_pipe(const char *text)
{
    int p[2];
    size_t len = strlen(text);
    if (len > 16384 || pipe2(p, O_CLOEXEC))
        return -1;
    ssize_t w = write(p[1], text, len);
    close(p[1]);
    if (w != (ssize_t)len) {
        close(p[0]);
        return -1;
    }
    return p[0];
}

/* Forks c on the runner thread. The child: dies with this thread, its own process
 * group (a terminal's Ctrl-C reaches the server, which stops the children in order),
 * default signal dispositions and mask, stdin from the pipe, stdout+stderr to the pipe,
 * fd 3 the secrets pipe (when c has one), the environment without secrets. */
static void fork_child(sl_runner_t *r, child_t *c)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, extra = -1;
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || (c->fd3 && (extra = text_pipe(c->fd3)) < 0)) {
        for (int i = 0; i < 2; i++) {
            if (in[i] >= 0)
                close(in[i]);
            if (out[i] >= 0)
                close(out[i]);
        }
        c->failed = true;
        c->code = -1;
        return;
    }
    char **env = child_env();
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        setpgid(0, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(out[1], 2);
        if (extra >= 0) {
            if (extra == 3)
                fcntl(3, F_SETFD, 0); /* dup2 onto itself would keep O_CLOEXEC */
            else
                dup2(extra, 3);
        }
        close_range(extra >= 0 ? 4 : 3, ~0U, 0);
        execve(r->exe, c->argv, env);
        _exit(127);
    }
    free(env);
    close(in[0]);
    close(out[1]);
    if (extra >= 0)
        close(extra);
    if (pid < 0) {
        close(in[1]);
        close(out[0]);
        c->failed = true;
        c->code = -1;
        return;
    }
    c->pid = pid;
    c->infd = in[1];
    c->errfd = out[0];
    fcntl(c->infd, F_SETFL, O_NONBLOCK);
    fcntl(c->errfd, F_SETFL, O_NONBLOCK);
    clock_gettime(CLOCK_MONOTONIC, &c->started);
    if (c->pending_sig)
        kill(pid, c->pending_sig);
}

/* One complete line of c's output. */
static void on_line(sl_runner_t *r, child_t *c, const char *raw)
{
    char *line = sl_secret_scrub(raw, (const char *const *)c->secrets);
    const char *level = "info", *msg = line;
    static const char *const names[][2] = {{"DEBUG", "debug"}, {"INFO", "info"}, {"WARN", "warn"},
                                           {"ERROR", "error"}};
    size_t n = strlen(line);
    if (n > 24 && line[4] == '-' && line[10] == ' ' && line[19] == '.') {
        for (int i = 0; i < 4; i++) {
            size_t k = strlen(names[i][0]);
            if (strncmp(line + 24, names[i][0], k) == 0 && line[24 + k] == ' ') {
                level = names[i][1];
                msg = line + 24 + k;
                while (*msg == ' ')
                    msg++;
            }
        }
    }
    if (strncmp(line, "error: ", 7) == 0) {
        json_decref(c->last_err);
        c->last_err = json_pack("{s:s}", "message", line + 7);
        level = "error";
        msg = line + 7;
    } else if (c->last_err && strncmp(line, "detail: ", 8) == 0) {
        json_object_set_new(c->last_err, "detail", json_string(line + 8));
        level = "error";
    } else if (c->last_err && strncmp(line, "hint: ", 6) == 0) {
        json_object_set_new(c->last_err, "hint", json_string(line + 6));
        level = "error";
    } else if (strcmp(level, "error") == 0) {
        json_decref(c->last_err);
        c->last_err = json_pack("{s:s}", "message", msg);
    }
    if (!json_is_object(c->last_err)) {
        json_decref(c->last_err);
        c->last_err = NULL;
    }
    push_ev(r, 0, c, level, msg, 0, NULL);
    free(line);
}

static void read_output(sl_runner_t *r, child_t *c)
{
    char buf[8192];
    for (;;) {
        ssize_t n = read(c->errfd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            if (c->linelen) {
                c->line[c->linelen] = '\0';
                on_line(r, c, c->line);
                c->linelen = 0;
            }
            c->eof = true;
            return;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                c->line[c->linelen] = '\0';
                if (c->linelen)
                    on_line(r, c, c->line);
                c->linelen = 0;
            } else if (c->linelen < sizeof c->line - 1) {
                c->line[c->linelen++] = buf[i]; /* longer lines are cut */
            }
        }
    }
}

static void write_input(child_t *c)
{
    while (c->inoff < c->inlen) {
        ssize_t n = write(c->infd, c->in + c->inoff, c->inlen - c->inoff);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n < 0)
            break; /* the child is gone: its exit tells why */
        c->inoff += (size_t)n;
    }
    close(c->infd);
    c->infd = -1;
}

static void *runner_main(void *arg)
{
    sl_runner_t *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        for (child_t *c = r->children; c; c = c->next)
            if (!c->pid && !c->failed && !r->stopping)
                fork_child(r, c);
        /* Reap and report. */
        for (child_t **pp = &r->children; *pp;) {
            child_t *c = *pp;
            if (c->pid && !c->reaped) {
                int st;
                pid_t w = waitpid(c->pid, &st, WNOHANG);
                if (w == c->pid) {
                    c->reaped = true;
                    c->code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                }
            }
            if (c->pid && !c->reaped && !c->up && since(&c->started) >= 1.0) {
                c->up = true;
                push_ev(r, 1, c, NULL, NULL, 0, NULL);
            }
            if (!c->pid && r->stopping) {
                c->failed = true;
                c->code = -1;
            }
            bool gone = c->failed || (c->reaped && c->eof);
            if (gone) {
                push_ev(r, 2, c, NULL, NULL, c->code, json_incref(c->last_err));
                *pp = c->next;
                child_free(c);
                pthread_cond_broadcast(&r->cv);
                continue;
            }
            pp = &c->next;
        }
        if (r->stopping && !r->children && r->nev == 0)
            break;
        /* Callbacks without the lock. */
        if (r->nev) {
            event_t *ev = r->ev;
            int nev = r->nev;
            r->ev = NULL;
            r->nev = r->capev = 0;
            pthread_mutex_unlock(&r->mu);
            for (int i = 0; i < nev; i++) {
                if (ev[i].kind == 0 && r->cb.on_line)
                    r->cb.on_line(r->cb.ctx, ev[i].id, ev[i].label, ev[i].level, ev[i].msg);
                else if (ev[i].kind == 1 && r->cb.on_up)
                    r->cb.on_up(r->cb.ctx, ev[i].id);
                else if (ev[i].kind == 2 && r->cb.on_exit)
                    r->cb.on_exit(r->cb.ctx, ev[i].id, ev[i].code, ev[i].err);
                free(ev[i].id);
                free(ev[i].label);
                free(ev[i].level);
                free(ev[i].msg);
                json_decref(ev[i].err);
            }
            free(ev);
            pthread_mutex_lock(&r->mu);
            continue;
        }
        struct pollfd fds[130];
        child_t *who[130];
        int nf = 0;
        fds[nf++] = (struct pollfd){.fd = r->wake[0], .events = POLLIN};
        for (child_t *c = r->children; c && nf < 128; c = c->next) {
            if (c->pid && c->errfd >= 0 && !c->eof) {
                who[nf] = c;
                fds[nf++] = (struct pollfd){.fd = c->errfd, .events = POLLIN};
            }
            if (c->pid && c->infd >= 0 && nf < 128) {
                who[nf] = c;
                fds[nf++] = (struct pollfd){.fd = c->infd, .events = POLLOUT};
            }
        }
        pthread_mutex_unlock(&r->mu);
        int pr = poll(fds, (nfds_t)nf, 200);
        pthread_mutex_lock(&r->mu);
        if (pr <= 0)
            continue;
        if (fds[0].revents) {
            char buf[64];
            while (read(r->wake[0], buf, sizeof buf) > 0) {
            }
        }
        /* The list may only have grown at its head meanwhile (spawn prepends); the
         * children polled are still there: only this thread removes. */
        for (int i = 1; i < nf; i++) {
            if (!fds[i].revents)
                continue;
            child_t *c = who[i];
            if (fds[i].events == POLLIN)
                read_output(r, c);
            else if (c->infd >= 0)
                write_input(c);
        }
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

int sl_runner_start(const char *exe, const sl_runner_cb_t *cb, sl_runner_t **out, sl_err_t *err)
{
    sl_runner_t *r = calloc(1, sizeof *r);
    if (!r)
        sl_oom();
    if (pipe2(r->wake, O_CLOEXEC | O_NONBLOCK)) {
        free(r);
        return sl_err_set(err, SL_E_IO, "could not create a pipe: %s", strerror(errno));
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->exe = sl_strdup(exe);
    r->cb = *cb;
    if (pthread_create(&r->thread, NULL, runner_main, r)) {
        close(r->wake[0]);
        close(r->wake[1]);
        free(r->exe);
        free(r);
        return sl_err_set(err, SL_E_INTERNAL, "could not start the runner thread");
    }
    *out = r;
    return 0;
}

void sl_runner_stop(sl_runner_t *r, int grace_ms)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stopping = true;
    for (child_t *c = r->children; c; c = c->next)
        if (c->pid && !c->reaped)
            kill(c->pid, SIGTERM);
    struct timespec deadline = sl_deadline_ms(grace_ms);
    while (r->children && pthread_cond_timedwait(&r->cv, &r->mu, &deadline) == 0) {
    }
    for (child_t *c = r->children; c; c = c->next)
        if (c->pid && !c->reaped)
            kill(c->pid, SIGKILL);
    pthread_mutex_unlock(&r->mu);
    wake(r);
    pthread_join(r->thread, NULL);
    close(r->wake[0]);
    close(r->wake[1]);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r->ev);
    free(r->exe);
    free(r);
}

static char **copy_strv(const char *const *v, const char *first)
{
    int n = 0;
    while (v && v[n])
        n++;
    char **o = calloc((size_t)n + 2, sizeof *o);
    if (!o)
        sl_oom();
    int k = 0;
    if (first)
        o[k++] = sl_strdup(first);
    for (int i = 0; i < n; i++)
        o[k++] = sl_strdup(v[i]);
    return o;
}

void sl_runner_spawn(sl_runner_t *r, const char *id, const char *label, const char *const *args,
                     const char *stdin_text, const char *fd3_text, const char *const *secrets)
{
    child_t *c = calloc(1, sizeof *c);
    if (!c)
        sl_oom();
    c->id = sl_strdup(id);
    c->label = sl_strdup(label ? label : id);
    c->infd = c->errfd = -1;
    c->in = sl_strdup(stdin_text ? stdin_text : "");
    c->inlen = strlen(c->in);
    c->fd3 = fd3_text ? sl_strdup(fd3_text) : NULL;
    /* Each secret also in its percent-encoded form, as it appears inside URLs. */
    int n = 0;
    while (secrets && secrets[n])
        n++;
    c->secrets = calloc((size_t)(2 * n + 1), sizeof *c->secrets);
    if (!c->secrets)
        sl_oom();
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!*secrets[i])
            continue;
        c->secrets[k++] = sl_strdup(secrets[i]);
        char *u = sl_url_with_password("x://u@h", secrets[i]); /* "x://u:<enc>@h" */
        if (u) {
            size_t ul = strlen(u);
            u[ul - 2] = '\0';
            if (strcmp(u + 6, secrets[i]))
                c->secrets[k++] = sl_strdup(u + 6);
            free(u);
        }
    }
    pthread_mutex_lock(&r->mu);
    c->argv = copy_strv(args, r->exe);
    c->next = r->children;
    r->children = c;
    pthread_mutex_unlock(&r->mu);
    wake(r);
}

static child_t *find(sl_runner_t *r, const char *id)
{
    for (child_t *c = r->children; c; c = c->next)
        if (strcmp(c->id, id) == 0)
            return c;
    return NULL;
}

bool sl_runner_active(sl_runner_t *r, const char *id)
{
    pthread_mutex_lock(&r->mu);
    bool on = find(r, id) != NULL;
    pthread_mutex_unlock(&r->mu);
    return on;
}

bool sl_runner_signal(sl_runner_t *r, const char *id, int sig)
{
    pthread_mutex_lock(&r->mu);
    child_t *c = find(r, id);
    bool ok = c && !c->reaped && !c->failed;
    if (ok && !c->pid)
        c->pending_sig = sig; /* not forked yet: sent right after the fork */
    else if (ok)
        ok = kill(c->pid, sig) == 0;
    pthread_mutex_unlock(&r->mu);
    return ok;
}

bool sl_runner_wait(sl_runner_t *r, const char *id, int timeout_ms)
{
    struct timespec deadline = sl_deadline_ms(timeout_ms);
    pthread_mutex_lock(&r->mu);
    while (find(r, id) && pthread_cond_timedwait(&r->cv, &r->mu, &deadline) == 0) {
    }
    bool none = find(r, id) == NULL;
    pthread_mutex_unlock(&r->mu);
    return none;
}
