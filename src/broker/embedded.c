/*
 * embedded.c: supervising the embedded nats-server (see embedded.h).
 *
 * Threads: sl_broker_start/stop run on the caller's thread; one supervisor thread
 * per broker blocks in waitpid() and respawns the child. `mu` guards pid/stopping.
 */
#include "broker/embedded.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"

struct sl_broker {
    char dir[1024];
    char conf[1100];
    char logfile[1100];
    char bin[512];
    char password[65]; /* of the user "sluice": 64 hex digits from DIR/nats/password */
    char url[160];     /* nats://sluice:<password>@127.0.0.1:PORT */
    int port;
    pid_t pid;
    bool stopping;
    int restarts;
    pthread_t thread;
    pthread_mutex_t mu;
};

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static bool find_binary(char *out, size_t size)
{
    const char *env = getenv("SLUICE_NATS_SERVER");
    if (env && *env) {
        snprintf(out, size, "%s", env);
        return access(out, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    char buf[4096];
    snprintf(buf, sizeof buf, "%s:/usr/sbin:/usr/local/sbin:/usr/bin", path ? path : "");
    for (char *save = NULL, *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(out, size, "%s/nats-server", d);
        if (access(out, X_OK) == 0)
            return true;
    }
    return false;
}

/* Creates path with text, or overwrites it, as a 0600 file (never through a symlink). */
static int write_private(const char *path, const char *text, sl_err_t *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    size_t len = strlen(text);
    if (fd < 0 || fchmod(fd, 0600) != 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
        sl_err_set(err, SL_E_IO, "could not write \"%s\": %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* The broker's password: DIR/nats/password (0600), made on the first start. Only
 * sluice knows it, so no other local user can reach the broker. */
/* Reads DIR/nats/password into pw (65 bytes): 1 when it holds a valid one, 0 when it is
 * damaged (warned), -1 with errno when it cannot be opened. */
static int read_password(const char *path, char *pw)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat sb;
    ssize_t r = fstat(fd, &sb) == 0 ? read(fd, pw, 64) : -1;
    close(fd);
    pw[r > 0 ? r : 0] = '\0';
    pw[strcspn(pw, "\r\n")] = '\0';
    if (r > 0 && strlen(pw) == 64 && strspn(pw, "0123456789abcdef") == 64) {
        if (sb.st_mode & 077)
            chmod(path, 0600);
        return 1;
    }
    sl_warn("embedded broker: \"%s\" is damaged", path);
    return 0;
}

static int load_password(sl_broker_t *b, sl_err_t *err)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/password", b->dir);
    int got = read_password(path, b->password);
    if (got > 0)
        return 0;
    if (got < 0 && errno != ENOENT)
        return sl_err_set(err, SL_E_IO, "could not open \"%s\": %s", path, strerror(errno));
    if (got == 0)
        sl_warn("embedded broker: making a new password");
    unsigned char raw[32];
    if (sodium_init() < 0)
        return sl_err_set(err, SL_E_INTERNAL, "could not initialise libsodium");
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(b->password, sizeof b->password, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    char text[80];
    snprintf(text, sizeof text, "%s\n", b->password);
    int rc = write_private(path, text, err);
    sodium_memzero(text, sizeof text);
    return rc;
}

static int write_config(sl_broker_t *b, sl_err_t *err)
{
    /* The password goes into the config as a quoted string: 64 hex digits need no
     * escaping. The config, like the store, is readable by this user only. */
    char text[4096];
    snprintf(text, sizeof text,
             "# written by sluice; rewritten at every start\n"
             "listen: \"127.0.0.1:%d\"\n"
             "server_name: \"sluice-embedded\"\n"
             "max_payload: 8388608\n"
             "max_pending: 67108864\n"
             "log_file: \"%s\"\n"
             "authorization {\n"
             "  user: \"sluice\"\n"
             "  password: \"%s\"\n"
             "}\n"
             "jetstream {\n"
             "  store_dir: \"%s/store\"\n"
             "  max_memory_store: 67108864\n"
             "}\n",
             b->port, b->logfile, b->password, b->dir);
    int rc = write_private(b->conf, text, err);
    sodium_memzero(text, sizeof text);
    return rc;
}

/* DIR/nats and DIR/nats/store: 0700, also when an older sluice made them wider. */
static int private_dirs(sl_broker_t *b, sl_err_t *err)
{
    char store[1100];
    snprintf(store, sizeof store, "%s/store", b->dir);
    if (sl_fs_mkdirs(store, 0700, err))
        return -1;
    const char *dirs[] = {b->dir, store};
    for (int i = 0; i < 2; i++) {
        struct stat sb;
        if (lstat(dirs[i], &sb) != 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != geteuid()) {
            sl_err_set(err, SL_E_CONFIG, "\"%s\" is not a directory of this user", dirs[i]);
            sl_err_hint(err, "the embedded broker keeps its store there: remove it, or choose another --data-dir");
            return -1;
        }
        if ((sb.st_mode & 077) && chmod(dirs[i], 0700) != 0)
            return sl_err_set(err, SL_E_IO, "could not chmod \"%s\": %s", dirs[i], strerror(errno));
    }
    chmod(b->logfile, 0600); /* nats-server creates it 0640 */
    return 0;
}

static pid_t spawn(sl_broker_t *b)
{
    /* nats-server needs nothing from sluice's environment, which may hold secrets
     * (SLUICE_API_KEY, SLUICE_SECRET_KEY, AWS_*): it gets a minimal one. Built before the
     * fork (no allocation in the child). */
    const char *tz = getenv("TZ");
    char tzvar[256];
    snprintf(tzvar, sizeof tzvar, "TZ=%s", tz ? tz : "");
    char *const env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", tz ? tzvar : NULL, NULL};
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* child: die with the parent, keep quiet, become nats-server */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(1);
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execle(b->bin, "nats-server", "-c", b->conf, (char *)NULL, env);
    _exit(127);
}

/* Polls until the port accepts a TCP connection and sends the INFO line. */
static bool wait_ready(sl_broker_t *b, int timeout_ms)
{
    struct timespec ts = {0, 50 * 1000 * 1000};
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)b->port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
            char buf[8];
            ssize_t n = read(fd, buf, sizeof buf);
            close(fd);
            if (n >= 4 && memcmp(buf, "INFO", 4) == 0)
                return true;
        } else if (fd >= 0) {
            close(fd);
        }
        pid_t pid;
        pthread_mutex_lock(&b->mu);
        pid = b->pid;
        pthread_mutex_unlock(&b->mu);
        if (pid > 0 && kill(pid, 0) != 0)
            return false;
        nanosleep(&ts, NULL);
    }
    return false;
}

/* Supervisor thread: restarts the child whenever it exits unasked. */
static void *supervise(void *arg)
{
    sl_broker_t *b = arg;
    int backoff_ms = 200;
    for (;;) {
        pthread_mutex_lock(&b->mu);
        pid_t pid = b->pid;
        pthread_mutex_unlock(&b->mu);
        int status = 0;
        if (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            continue;
        pthread_mutex_lock(&b->mu);
        if (b->stopping) {
            b->pid = -1;
            pthread_mutex_unlock(&b->mu);
            return NULL;
        }
        pthread_mutex_unlock(&b->mu);
        sl_warn("embedded nats-server exited (%s %d); restarting it (log: %s)",
                WIFSIGNALED(status) ? "signal" : "status",
                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), b->logfile);
        struct timespec ts = {backoff_ms / 1000, (backoff_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        if (backoff_ms < 5000)
            backoff_ms *= 2;
        pthread_mutex_lock(&b->mu);
        if (b->stopping) {
            pthread_mutex_unlock(&b->mu);
            return NULL;
        }
        b->pid = spawn(b);
        b->restarts++;
        pthread_mutex_unlock(&b->mu);
        if (wait_ready(b, 15000))
            backoff_ms = 200;
    }
}

int sl_broker_start(const char *data_dir, sl_broker_t **out, sl_err_t *err)
{
    sl_broker_t *b = calloc(1, sizeof *b);
    if (!b)
        sl_oom();
    pthread_mutex_init(&b->mu, NULL);
    char abs[1024];
    if (strlen(data_dir) > 700) {
        sl_err_set(err, SL_E_CONFIG, "data directory path is longer than 700 bytes");
        goto fail;
    }
    if (data_dir[0] != '/') {
        char cwd[512];
        if (!getcwd(cwd, sizeof cwd))
            snprintf(cwd, sizeof cwd, ".");
        snprintf(abs, sizeof abs, "%s/%s", cwd, data_dir);
    } else {
        snprintf(abs, sizeof abs, "%s", data_dir);
    }
    snprintf(b->dir, sizeof b->dir, "%s/nats", abs);
    snprintf(b->conf, sizeof b->conf, "%s/nats-server.conf", b->dir);
    snprintf(b->logfile, sizeof b->logfile, "%s/nats-server.log", b->dir);
    if (private_dirs(b, err) || load_password(b, err))
        goto fail;
    if (!find_binary(b->bin, sizeof b->bin)) {
        sl_err_set(err, SL_E_CONFIG, "could not find the nats-server program");
        sl_err_hint(err, "install it (apt-get install nats-server), set SLUICE_NATS_SERVER to its path, "
                         "or use an external broker with --nats URL");
        goto fail;
    }
    b->port = free_port();
    if (b->port <= 0) {
        sl_err_set(err, SL_E_IO, "could not find a free loopback port for the embedded broker");
        goto fail;
    }
    snprintf(b->url, sizeof b->url, "nats://sluice:%s@127.0.0.1:%d", b->password, b->port);
    if (write_config(b, err))
        goto fail;
    b->pid = spawn(b);
    if (b->pid < 0) {
        sl_err_set(err, SL_E_IO, "could not start nats-server: %s", strerror(errno));
        goto fail;
    }
    if (!wait_ready(b, 20000)) {
        kill(b->pid, SIGKILL);
        waitpid(b->pid, NULL, 0);
        sl_err_set(err, SL_E_BROKER, "the embedded nats-server did not become ready");
        sl_err_hint(err, "see its log in %s", b->logfile);
        goto fail;
    }
    if (pthread_create(&b->thread, NULL, supervise, b)) {
        kill(b->pid, SIGKILL);
        waitpid(b->pid, NULL, 0);
        sl_err_set(err, SL_E_INTERNAL, "could not start the broker supervisor thread");
        goto fail;
    }
    sl_info("embedded broker ready at nats://sluice:****@127.0.0.1:%d (store %s/store)", b->port, b->dir);
    *out = b;
    return 0;
fail:
    pthread_mutex_destroy(&b->mu);
    sodium_memzero(b, sizeof *b);
    free(b);
    return -1;
}

const char *sl_broker_url(const sl_broker_t *b) { return b->url; }

int sl_broker_url_of(const char *data_dir, char **url, sl_err_t *err)
{
    char path[1100], pw[65], line[256];
    int port = -1;
    snprintf(path, sizeof path, "%s/nats/nats-server.conf", data_dir);
    FILE *f = fopen(path, "re");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "listen: \"127.0.0.1:%d\"", &port) == 1)
            break;
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "%s/nats/password", data_dir);
    if (port <= 0 || port > 65535 || read_password(path, pw) != 1) {
        sl_err_set(err, SL_E_CONFIG, "the process that holds \"%s\" runs no embedded broker there", data_dir);
        sl_err_hint(err, "if that server uses an external NATS, give the same --nats options");
        return -1;
    }
    char text[160];
    snprintf(text, sizeof text, "nats://sluice:%s@127.0.0.1:%d", pw, port);
    sodium_memzero(pw, sizeof pw);
    *url = strdup(text);
    sodium_memzero(text, sizeof text);
    if (!*url)
        sl_oom();
    return 0;
}

void sl_broker_stop(sl_broker_t *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    b->stopping = true;
    pid_t pid = b->pid;
    pthread_mutex_unlock(&b->mu);
    if (pid > 0)
        kill(pid, SIGTERM);
    /* nats-server flushes its store on SIGTERM; give it 10 s, then kill it. */
    for (int i = 0; i < 200 && pid > 0; i++) {
        if (kill(pid, 0) != 0)
            break;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (pid > 0)
        kill(pid, SIGKILL);
    pthread_join(b->thread, NULL);
    pthread_mutex_destroy(&b->mu);
    sodium_memzero(b, sizeof *b);
    free(b);
}
