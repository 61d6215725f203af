/*
 * demo_db.c: the demo's private PostgreSQL and MariaDB servers (see demo.h), started the
 * way the test suite starts its own: initialised once under DIR/demo/{pg,my}, listening only
 * on 127.0.0.1, password logins over TCP, set up for change data capture.
 *
 * PostgreSQL refuses to run as root: run as root, initdb and postgres run as the system
 * user postgres (Debian's postgresql package makes it), which owns DIR/demo/pg. Each server
 * is a child of the calling thread with PR_SET_PDEATHSIG, so a killed sluice server does not
 * leave them behind (PostgreSQL gets SIGQUIT, an immediate shutdown it recovers from;
 * MariaDB SIGTERM); they get a minimal environment, none of sluice's secrets. Thread: the
 * caller's (the server's main thread, which lives as long as they do).
 */
#include "cli/demo.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <mysql.h>

#include "core/log.h"

#define START_TIMEOUT_MS 90000

/* The database servers need nothing of sluice's environment, which may hold secrets
 * (SLUICE_API_KEY, SLUICE_SECRET_KEY, AWS_*): they get this one. */
static char *const DB_ENV[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int sl_demo_free_port(int avoid)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -1;
        int one = 1; /* as the servers bind: a port in TIME_WAIT after their last run is free */
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        a.sin_port = htons((uint16_t)(attempt == 0 && avoid > 0 ? avoid : 0));
        socklen_t len = sizeof a;
        int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
                 getsockname(fd, (struct sockaddr *)&a, &len) == 0;
        close(fd);
        if (ok)
            return ntohs(a.sin_port);
    }
    return -1;
}

/* The first of dirs/name that is executable, into out. */
static bool find_prog(const char *const *dirs, const char *name, char *out, size_t size)
{
    for (; *dirs; dirs++) {
        snprintf(out, size, "%s/%s", *dirs, name);
        if (access(out, X_OK) == 0)
            return true;
    }
    return false;
}

/* The bin dir of the newest PostgreSQL under /usr/lib/postgresql (Debian's layout). */
static bool pg_bindir(char *out, size_t size)
{
    DIR *d = opendir("/usr/lib/postgresql");
    if (!d)
        return false;
    int best = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        int v = atoi(e->d_name);
        char p[PATH_MAX];
        snprintf(p, sizeof p, "/usr/lib/postgresql/%s/bin/postgres", e->d_name);
        if (v > best && access(p, X_OK) == 0) {
            best = v;
            snprintf(out, size, "/usr/lib/postgresql/%d/bin", v);
        }
    }
    closedir(d);
    return best > 0;
}

/* Runs argv (as uid/gid when run_as), stdout and stderr into logfile; 0 when it exits 0. */
static int run_wait(char *const argv[], const struct passwd *run_as, const char *logfile, sl_err_t *err)
{
    pid_t pid = fork();
    if (pid < 0) {
        sl_err_set(err, SL_E_IO, "could not start %s: %s", argv[0], strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int fd = open(logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        if (run_as && (setgid(run_as->pw_gid) || setuid(run_as->pw_uid)))
            _exit(126);
        execve(argv[0], argv, DB_ENV);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    sl_err_set(err, SL_E_IO, "%s failed (exit status %d)", argv[0], WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    sl_err_detail(err, "its output is in %s", logfile);
    return -1;
}

/* Starts argv as a server child that dies with this thread (signal sig), output into
 * logfile. */
static pid_t spawn(char *const argv[], const struct passwd *run_as, int sig, const char *logfile)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int fd = open(logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
    }
    int nul = open("/dev/null", O_RDONLY);
    if (nul >= 0)
        dup2(nul, 0);
    setsid(); /* a Ctrl-C in sluice's terminal is sluice's to handle, not the databases' */
    if (run_as && (setgid(run_as->pw_gid) || setuid(run_as->pw_uid)))
        _exit(126);
    prctl(PR_SET_PDEATHSIG, sig); /* after setuid, which clears it */
    execve(argv[0], argv, DB_ENV);
    _exit(127);
}

/* Polls ready(arg) every 200 ms until it returns true, the child exits or the timeout. */
static int wait_ready(sl_demo_srv_t *s, bool (*ready)(void *), void *arg, const char *log, sl_err_t *err)
{
    long deadline = now_ms() + START_TIMEOUT_MS;
    while (now_ms() < deadline) {
        if (ready(arg))
            return 0;
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            sl_err_set(err, SL_E_IO, "the demo's %s server exited while starting", s->what);
            sl_err_detail(err, "its log is %s", log);
            return -1;
        }
        sleep_ms(200);
    }
    sl_err_set(err, SL_E_IO, "the demo's %s server did not accept connections within %d s", s->what,
               START_TIMEOUT_MS / 1000);
    sl_err_detail(err, "its log is %s", log);
    sl_demo_srv_stop(s);
    return -1;
}

static int write_file(const char *path, const char *text, mode_t mode, sl_err_t *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        sl_err_set(err, SL_E_IO, "could not write %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* ---- PostgreSQL --------------------------------------------------------------------- */

typedef struct pg_probe {
    char conninfo[256];
} pg_probe_t;

static bool pg_ready(void *arg)
{
    pg_probe_t *p = arg;
    PGconn *c = PQconnectdb(p->conninfo);
    bool ok = PQstatus(c) == CONNECTION_OK;
    PQfinish(c);
    return ok;
}

static int pg_init(const char *bin, const char *dir, const char *password, const struct passwd *pw,
                   sl_err_t *err)
{
    char data[PATH_MAX], pwfile[PATH_MAX], log[PATH_MAX], initdb[PATH_MAX];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(pwfile, sizeof pwfile, "%s/pwfile", dir);
    snprintf(log, sizeof log, "%s/initdb.log", dir);
    snprintf(initdb, sizeof initdb, "%s/initdb", bin);
    char line[256];
    snprintf(line, sizeof line, "%s\n", password);
    if (write_file(pwfile, line, 0600, err) || (pw && chown(pwfile, pw->pw_uid, pw->pw_gid)))
        return -1;
    char pwopt[PATH_MAX + 16], dopt[PATH_MAX + 4];
    snprintf(pwopt, sizeof pwopt, "--pwfile=%s", pwfile);
    snprintf(dopt, sizeof dopt, "-D%s", data);
    char *argv[] = {initdb, dopt, "-U", "postgres", pwopt, "-E", "UTF8", "--no-locale",
                    "--auth-local=trust", "--auth-host=scram-sha-256", NULL};
    sl_info("demo: initialising PostgreSQL in %s", data);
    int rc = run_wait(argv, pw, log, err);
    unlink(pwfile);
    if (rc)
        return -1;
    char conf[PATH_MAX], text[PATH_MAX + 512];
    snprintf(conf, sizeof conf, "%s/postgresql.conf", data);
    snprintf(text, sizeof text,
             "\n# --- the sluice demo (sluice server --demo) ---\n"
             "listen_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n"
             "password_encryption = 'scram-sha-256'\nwal_level = logical\nmax_wal_senders = 10\n"
             "max_replication_slots = 10\nshared_buffers = 32MB\nlogging_collector = off\n"
             "log_min_messages = warning\n",
             dir);
    int fd = open(conf, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        sl_err_set(err, SL_E_IO, "could not write %s: %s", conf, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    char hba[PATH_MAX];
    snprintf(hba, sizeof hba, "%s/pg_hba.conf", data);
    if (write_file(hba,
                   "local all all trust\nlocal replication all trust\n"
                   "host all all 127.0.0.1/32 scram-sha-256\nhost replication all 127.0.0.1/32 scram-sha-256\n",
                   0600, err) ||
        (pw && chown(hba, pw->pw_uid, pw->pw_gid)))
        return -1;
    return 0;
}

/* Whether user pw can reach path (search permission on every directory up to it). */
static bool reachable_by(const struct passwd *pw, const char *path)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(setgid(pw->pw_gid) == 0 && setuid(pw->pw_uid) == 0 && access(path, X_OK) == 0 ? 0 : 1);
    int st = 0;
    while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Run as root, the cluster must sit where the postgres user can reach it. When DIR/demo is
 * behind a directory it cannot enter (the data dir of a root checkout under /root), the
 * cluster goes into the postgres user's home instead, named after DIR/demo, with DIR/demo/pg
 * a symlink to it. *dir then points at that place (in buf). */
static int pg_place(const struct passwd *pw, const char **dir, char *buf, size_t size, sl_err_t *err)
{
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", *dir);
    char *slash = strrchr(parent, '/');
    if (slash)
        *slash = '\0';
    if (reachable_by(pw, parent))
        return 0;
    char real[PATH_MAX];
    if (!realpath(parent, real))
        snprintf(real, sizeof real, "%s", parent);
    uint32_t h = 2166136261u; /* FNV-1a of the path: one cluster per demo dir */
    for (const char *p = real; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    snprintf(buf, size, "%s/sluice-demo-%08x", pw->pw_dir, h);
    if ((mkdir(buf, 0700) && errno != EEXIST) || chown(buf, pw->pw_uid, pw->pw_gid)) {
        sl_err_set(err, SL_E_IO, "could not create %s: %s", buf, strerror(errno));
        return -1;
    }
    if (symlink(buf, *dir) && errno != EEXIST) {
        sl_err_set(err, SL_E_IO, "could not link %s to %s: %s", *dir, buf, strerror(errno));
        return -1;
    }
    sl_info("demo: the postgres user cannot enter %s; PostgreSQL's files are in %s", parent, buf);
    *dir = buf;
    return 0;
}

int sl_demo_pg_start(const char *dir, int port, const char *password, sl_demo_srv_t *s, sl_err_t *err)
{
    *s = (sl_demo_srv_t){.what = "PostgreSQL", .port = port};
    char bin[PATH_MAX];
    if (!pg_bindir(bin, sizeof bin)) {
        sl_err_set(err, SL_E_CONFIG, "the demo needs PostgreSQL, and no server is installed");
        sl_err_hint(err, "install it (apt-get install postgresql), or start the server without --demo");
        return -1;
    }
    const struct passwd *pw = NULL;
    if (geteuid() == 0 && !(pw = getpwnam("postgres"))) {
        sl_err_set(err, SL_E_CONFIG, "PostgreSQL refuses to run as root, and there is no postgres user to run it as");
        sl_err_hint(err, "install Debian's postgresql package (it creates the user), or run sluice as another user");
        return -1;
    }
    char placed[PATH_MAX];
    if (pw && pg_place(pw, &dir, placed, sizeof placed, err))
        return -1;
    if (mkdir(dir, 0700) && errno != EEXIST) {
        sl_err_set(err, SL_E_IO, "could not create %s: %s", dir, strerror(errno));
        return -1;
    }
    if (pw && chown(dir, pw->pw_uid, pw->pw_gid)) {
        sl_err_set(err, SL_E_IO, "could not hand %s to the postgres user: %s", dir, strerror(errno));
        return -1;
    }
    char data[PATH_MAX], marker[PATH_MAX + 16];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(marker, sizeof marker, "%s/PG_VERSION", data);
    if (access(marker, F_OK) != 0 && pg_init(bin, dir, password, pw, err))
        return -1;
    char postgres[PATH_MAX], log[PATH_MAX], dopt[PATH_MAX + 4], popt[16];
    snprintf(postgres, sizeof postgres, "%s/postgres", bin);
    snprintf(log, sizeof log, "%s/server.log", dir);
    snprintf(dopt, sizeof dopt, "-D%s", data);
    snprintf(popt, sizeof popt, "-p%d", port);
    char *argv[] = {postgres, dopt, popt, NULL};
    s->pid = spawn(argv, pw, SIGQUIT, log);
    if (s->pid < 0) {
        s->pid = 0;
        sl_err_set(err, SL_E_IO, "could not start postgres: %s", strerror(errno));
        return -1;
    }
    pg_probe_t probe;
    snprintf(probe.conninfo, sizeof probe.conninfo,
             "host=127.0.0.1 port=%d dbname=postgres user=postgres password=%s connect_timeout=2", port, password);
    return wait_ready(s, pg_ready, &probe, log, err);
}

/* ---- MariaDB ------------------------------------------------------------------------ */

typedef struct my_probe {
    const char *socket;
    const char *user;
} my_probe_t;

static bool my_ready(void *arg)
{
    my_probe_t *p = arg;
    MYSQL *m = mysql_init(NULL);
    unsigned int timeout = 2;
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    bool ok = mysql_real_connect(m, "localhost", p->user, NULL, NULL, 0, p->socket, 0) != NULL;
    mysql_close(m);
    return ok;
}

/* root@127.0.0.1 and root@% with the password (the data dir's first start: the install
 * gave the OS user's account unix-socket login only). */
static int my_setup_users(const my_probe_t *p, const char *password, sl_err_t *err)
{
    MYSQL *m = mysql_init(NULL);
    if (!mysql_real_connect(m, "localhost", p->user, NULL, NULL, 0, p->socket, 0)) {
        sl_err_set(err, SL_E_CONNECT, "could not log in to the demo's MariaDB by its socket: %s", mysql_error(m));
        mysql_close(m);
        return -1;
    }
    char esc[256];
    mysql_real_escape_string(m, esc, password, (unsigned long)strlen(password));
    const char *tmpl[] = {"CREATE USER IF NOT EXISTS root@'127.0.0.1' IDENTIFIED BY '%s'",
                          "CREATE USER IF NOT EXISTS root@'%%' IDENTIFIED BY '%s'",
                          "GRANT ALL PRIVILEGES ON *.* TO root@'127.0.0.1' WITH GRANT OPTION",
                          "GRANT ALL PRIVILEGES ON *.* TO root@'%%' WITH GRANT OPTION", "FLUSH PRIVILEGES"};
    for (size_t i = 0; i < sizeof tmpl / sizeof tmpl[0]; i++) {
        char sql[512];
        snprintf(sql, sizeof sql, tmpl[i], esc);
        if (mysql_query(m, sql)) {
            sl_err_set(err, SL_E_IO, "could not set up the demo's MariaDB users: %s", mysql_error(m));
            mysql_close(m);
            return -1;
        }
    }
    mysql_close(m);
    return 0;
}

int sl_demo_my_start(const char *dir, int port, const char *password, sl_demo_srv_t *s, sl_err_t *err)
{
    *s = (sl_demo_srv_t){.what = "MariaDB", .port = port};
    static const char *const dirs[] = {"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", NULL};
    char mariadbd[PATH_MAX], installdb[PATH_MAX];
    if (!find_prog(dirs, "mariadbd", mariadbd, sizeof mariadbd) ||
        !find_prog(dirs, "mariadb-install-db", installdb, sizeof installdb)) {
        sl_err_set(err, SL_E_CONFIG, "the demo needs MariaDB, and no server is installed");
        sl_err_hint(err, "install it (apt-get install mariadb-server), or start the server without --demo");
        return -1;
    }
    struct passwd *me = getpwuid(geteuid());
    if (!me) {
        sl_err_set(err, SL_E_CONFIG, "the user running sluice (uid %d) has no name", (int)geteuid());
        return -1;
    }
    char user[64];
    snprintf(user, sizeof user, "%s", me->pw_name);
    char data[PATH_MAX], tmp[PATH_MAX], log[PATH_MAX], sock[PATH_MAX], pidf[PATH_MAX], marker[PATH_MAX + 16];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(tmp, sizeof tmp, "%s/tmp", dir);
    snprintf(log, sizeof log, "%s/error.log", dir);
    snprintf(sock, sizeof sock, "%s/mysqld.sock", dir);
    snprintf(pidf, sizeof pidf, "%s/mariadbd.pid", dir);
    snprintf(marker, sizeof marker, "%s/mysql", data);
    if ((mkdir(dir, 0700) && errno != EEXIST) || (mkdir(tmp, 0700) && errno != EEXIST)) {
        sl_err_set(err, SL_E_IO, "could not create %s: %s", tmp, strerror(errno));
        return -1;
    }
    bool first = access(marker, F_OK) != 0;
    char o_data[PATH_MAX + 16], o_user[96], o_tmp[PATH_MAX + 16], o_sock[PATH_MAX + 16], o_pid[PATH_MAX + 16],
        o_log[PATH_MAX + 16], o_bin[PATH_MAX + 16], o_port[32];
    snprintf(o_data, sizeof o_data, "--datadir=%s", data);
    snprintf(o_user, sizeof o_user, "--user=%s", user);
    if (first) {
        char ilog[PATH_MAX];
        snprintf(ilog, sizeof ilog, "%s/install.log", dir);
        char *iargv[] = {installdb, "--no-defaults", o_data, o_user, "--skip-test-db",
                         "--auth-root-authentication-method=socket", NULL};
        sl_info("demo: initialising MariaDB in %s", data);
        if (run_wait(iargv, NULL, ilog, err))
            return -1;
    }
    snprintf(o_tmp, sizeof o_tmp, "--tmpdir=%s", tmp);
    snprintf(o_sock, sizeof o_sock, "--socket=%s", sock);
    snprintf(o_pid, sizeof o_pid, "--pid-file=%s", pidf);
    snprintf(o_log, sizeof o_log, "--log-error=%s", log);
    snprintf(o_bin, sizeof o_bin, "--log-bin=%s/binlog", data);
    snprintf(o_port, sizeof o_port, "--port=%d", port);
    char *argv[] = {mariadbd, "--no-defaults", o_user, o_data, o_tmp, o_sock, o_pid, o_port,
                    "--bind-address=127.0.0.1", "--skip-name-resolve", o_log, o_bin, "--binlog-format=ROW",
                    "--binlog-row-image=FULL", "--binlog-row-metadata=FULL", "--server-id=1",
                    "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
                    "--innodb-buffer-pool-size=64M", "--innodb-use-native-aio=0", "--expire-logs-days=2", NULL};
    s->pid = spawn(argv, NULL, SIGTERM, log);
    if (s->pid < 0) {
        s->pid = 0;
        sl_err_set(err, SL_E_IO, "could not start mariadbd: %s", strerror(errno));
        return -1;
    }
    my_probe_t probe = {.socket = sock, .user = user};
    if (wait_ready(s, my_ready, &probe, log, err))
        return -1;
    if (first && my_setup_users(&probe, password, err)) {
        sl_demo_srv_stop(s);
        return -1;
    }
    return 0;
}

void sl_demo_srv_stop(sl_demo_srv_t *s)
{
    if (!s || s->pid <= 0)
        return;
    /* PostgreSQL: SIGINT is its fast shutdown; MariaDB: SIGTERM */
    kill(s->pid, strcmp(s->what, "PostgreSQL") == 0 ? SIGINT : SIGTERM);
    long deadline = now_ms() + 60000;
    int st;
    while (waitpid(s->pid, &st, WNOHANG) == 0) {
        if (now_ms() > deadline) {
            sl_warn("demo: the %s server did not stop within 60 s; killing it", s->what);
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &st, 0);
            break;
        }
        sleep_ms(100);
    }
    s->pid = 0;
}
