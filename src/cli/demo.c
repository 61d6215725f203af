/*
 * demo.c: `sluice server --demo` (see demo.h): the demo's state, its sample data, its
 * connections and streams, and its write load.
 *
 * State: DIR/demo/state.json (0600) keeps the databases' ports and password, so that a
 * second start finds what the first made; DIR/demo/api-key the key the demo signs in with.
 * The connections and streams are made through the server's own REST API, exactly as a user
 * would make them (and only when they do not exist yet: a stream the user stopped or
 * deleted stays so). The write load is one MariaDB connection that places, pays, ships and
 * cancels orders a few times a second, so that the stream page shows rows moving.
 *
 * Threads: sl_demo_start and sl_demo_stop on the server's main thread (the parent of both
 * database servers); the API setup and the write load on the demo's thread.
 */
#include "cli/demo.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <mysql.h>

#include "cli/http_client.h"
#include "core/log.h"
#include "core/mem.h"

#define CDC_STREAM "demo-mariadb-to-postgres"
#define EXPORT_STREAM "demo-parquet-export"
#define WRITE_EVERY_MS 250

struct sl_demo {
    char dir[PATH_MAX];  /* DIR/demo */
    char export_dir[PATH_MAX];
    int api_port;
    char *api_key;
    char password[64];
    sl_demo_srv_t pg, my;
    bool moved;           /* the databases' ports changed since the last start */
    pthread_t thread;
    bool running;         /* thread started */
    atomic_bool stop;
};

static void random_hex(char *out, size_t nbytes)
{
    unsigned char b[64];
    if (nbytes > sizeof b)
        nbytes = sizeof b;
    if (getrandom(b, nbytes, 0) != (ssize_t)nbytes)
        for (size_t i = 0; i < nbytes; i++)
            b[i] = (unsigned char)rand();
    for (size_t i = 0; i < nbytes; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

int sl_demo_prepare(const char *data_dir, char **key_file, sl_err_t *err)
{
    char dir[PATH_MAX], path[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/demo", data_dir);
    /* run as root, the postgres user must reach DIR/demo/pg: traverse, not list */
    mode_t mode = geteuid() == 0 ? 0711 : 0700;
    if ((mkdir(dir, mode) && errno != EEXIST) || chmod(dir, mode) ||
        (geteuid() == 0 && chmod(data_dir, 0711))) {
        sl_err_set(err, SL_E_IO, "could not prepare %s: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%s/api-key", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
        char key[3 + 48 + 2] = "sk_";
        random_hex(key + 3, 24);
        strcat(key, "\n");
        ssize_t n = write(fd, key, strlen(key));
        close(fd);
        if (n != (ssize_t)strlen(key)) {
            unlink(path);
            sl_err_set(err, SL_E_IO, "could not write %s", path);
            return -1;
        }
    } else if (errno != EEXIST) {
        sl_err_set(err, SL_E_IO, "could not create %s: %s", path, strerror(errno));
        return -1;
    }
    *key_file = strdup(path);
    if (!*key_file)
        sl_oom();
    return 0;
}

/* ---- state ------------------------------------------------------------------------ */

/* Loads DIR/demo/state.json, or makes a new state (fresh ports and password). The ports
 * are checked: one that is taken now gets replaced, and d->moved says so. */
static int state_load(sl_demo_t *d, sl_err_t *err)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/state.json", d->dir);
    json_error_t je;
    json_t *st = json_load_file(path, 0, &je);
    int pg_port = 0, my_port = 0;
    bool fresh = !st;
    if (st) {
        pg_port = (int)json_integer_value(json_object_get(st, "pg_port"));
        my_port = (int)json_integer_value(json_object_get(st, "mariadb_port"));
        snprintf(d->password, sizeof d->password, "%s", json_string_value(json_object_get(st, "password")) ?: "");
        json_decref(st);
    }
    if (!d->password[0])
        random_hex(d->password, 16);
    int p = sl_demo_free_port(pg_port), m = sl_demo_free_port(my_port);
    if (m == p)
        m = sl_demo_free_port(0);
    if (p < 0 || m < 0) {
        sl_err_set(err, SL_E_IO, "could not find free loopback ports for the demo's databases");
        return -1;
    }
    d->moved = !fresh && (p != pg_port || m != my_port);
    d->pg.port = p;
    d->my.port = m;
    st = json_pack("{s:i, s:i, s:s}", "pg_port", p, "mariadb_port", m, "password", d->password);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    int rc = fd >= 0 ? json_dumpfd(st, fd, JSON_INDENT(2)) : -1;
    if (fd >= 0)
        close(fd);
    json_decref(st);
    if (rc) {
        sl_err_set(err, SL_E_IO, "could not write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- sample data ------------------------------------------------------------------ */

static const char *const SHOP_SQL[] = {
    "CREATE DATABASE IF NOT EXISTS shop",
    "USE shop", /* the seq_1_to_N tables of the Sequence engine need a current database */
    "CREATE TABLE IF NOT EXISTS shop.customers (id int AUTO_INCREMENT PRIMARY KEY, name varchar(80) NOT NULL, "
    "email varchar(120) NOT NULL UNIQUE, region enum('EU','US','APAC','LATAM') NOT NULL, "
    "created_at datetime(6) NOT NULL)",
    "CREATE TABLE IF NOT EXISTS shop.products (id int AUTO_INCREMENT PRIMARY KEY, sku char(8) NOT NULL UNIQUE, "
    "name varchar(80) NOT NULL, price decimal(10,2) NOT NULL, stock int NOT NULL, "
    "attributes json)",
    "CREATE TABLE IF NOT EXISTS shop.orders (id bigint AUTO_INCREMENT PRIMARY KEY, customer_id int NOT NULL, "
    "status enum('new','paid','shipped','cancelled') NOT NULL, total decimal(12,2) NOT NULL, "
    "created_at datetime(6) NOT NULL, KEY (customer_id), KEY (status))",
    "CREATE TABLE IF NOT EXISTS shop.order_items (order_id bigint NOT NULL, line smallint NOT NULL, "
    "product_id int NOT NULL, qty int NOT NULL, price decimal(10,2) NOT NULL, PRIMARY KEY (order_id, line))",
    "INSERT INTO shop.customers (name, email, region, created_at) "
    "SELECT CONCAT('Customer ', seq), CONCAT('customer', seq, '@example.com'), ELT(1 + seq % 4, 'EU', 'US', "
    "'APAC', 'LATAM'), TIMESTAMP'2026-01-01 00:00:00' + INTERVAL seq * 37 MINUTE FROM seq_1_to_2000",
    "INSERT INTO shop.products (sku, name, price, stock, attributes) "
    "SELECT CONCAT('SKU', LPAD(seq, 5, '0')), CONCAT('Product ', seq), 1 + (seq * 7919 % 20000) / 100, "
    "100 + seq % 400, JSON_OBJECT('color', ELT(1 + seq % 3, 'red', 'green', 'blue'), 'weight_g', seq % 900) "
    "FROM seq_1_to_500",
    "INSERT INTO shop.orders (customer_id, status, total, created_at) "
    "SELECT 1 + seq * 31 % 2000, ELT(1 + seq % 4, 'new', 'paid', 'shipped', 'cancelled'), 0, "
    "TIMESTAMP'2026-06-01 00:00:00' + INTERVAL seq * 3 MINUTE FROM seq_1_to_20000",
    "INSERT INTO shop.order_items (order_id, line, product_id, qty, price) "
    "SELECT o.id, l.seq, 1 + (o.id * 13 + l.seq * 101) % 500, 1 + (o.id + l.seq) % 4, p.price "
    "FROM shop.orders o JOIN seq_1_to_3 l ON l.seq <= 1 + o.id % 3 "
    "JOIN shop.products p ON p.id = 1 + (o.id * 13 + l.seq * 101) % 500",
    "UPDATE shop.orders o JOIN (SELECT order_id, SUM(qty * price) s FROM shop.order_items GROUP BY order_id) t "
    "ON t.order_id = o.id SET o.total = t.s",
};

static MYSQL *my_open(const sl_demo_t *d, const char *db, sl_err_t *err)
{
    MYSQL *m = mysql_init(NULL);
    unsigned int timeout = 5;
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    if (!mysql_real_connect(m, "127.0.0.1", "root", d->password, db, (unsigned)d->my.port, NULL, 0)) {
        sl_err_set(err, SL_E_CONNECT, "could not connect to the demo's MariaDB: %s", mysql_error(m));
        mysql_close(m);
        return NULL;
    }
    return m;
}

/* The shop database in MariaDB (once) and an empty shop database in PostgreSQL. */
static int sample_data(const sl_demo_t *d, sl_err_t *err)
{
    MYSQL *m = my_open(d, NULL, err);
    if (!m)
        return -1;
    int rc = 0;
    bool exists = mysql_query(m, "SELECT 1 FROM shop.customers LIMIT 1") == 0;
    if (exists)
        mysql_free_result(mysql_store_result(m));
    for (size_t i = exists ? sizeof SHOP_SQL / sizeof *SHOP_SQL : 0; i < sizeof SHOP_SQL / sizeof *SHOP_SQL;
         i++)
        if (mysql_query(m, SHOP_SQL[i])) {
            sl_err_set(err, SL_E_IO, "could not create the demo's sample data: %s", mysql_error(m));
            rc = -1;
            break;
        }
    mysql_close(m);
    if (rc)
        return -1;
    char conninfo[256];
    snprintf(conninfo, sizeof conninfo, "host=127.0.0.1 port=%d dbname=postgres user=postgres password=%s",
             d->pg.port, d->password);
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        sl_err_set(err, SL_E_CONNECT, "could not connect to the demo's PostgreSQL: %s", PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    PGresult *r = PQexec(c, "SELECT 1 FROM pg_database WHERE datname = 'shop'");
    bool have = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    PQclear(r);
    if (!have) {
        r = PQexec(c, "CREATE DATABASE shop");
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            sl_err_set(err, SL_E_IO, "could not create the demo's target database: %s", PQerrorMessage(c));
            rc = -1;
        }
        PQclear(r);
    }
    PQfinish(c);
    return rc;
}

/* ---- connections and streams, through the API --------------------------------------- */

/* Calls the API; 0 with *status (and *resp, caller decrefs) or -1 when it cannot be reached. */
static int api(sl_http_t *h, const char *method, const char *path, json_t *body, long *status, json_t **resp,
               sl_err_t *err)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    int rc = sl_http_call(h, method, path, text, 60, status, resp, NULL, err);
    free(text);
    return rc;
}

static int api_expect(sl_http_t *h, const char *method, const char *path, json_t *body, long want, sl_err_t *err)
{
    long status = 0;
    json_t *resp = NULL;
    if (api(h, method, path, body, &status, &resp, err))
        return -1;
    int rc = 0;
    if (status != want) {
        json_t *e = json_object_get(resp, "error");
        sl_err_set(err, SL_E_IO, "the demo's %s %s got HTTP %ld: %s", method, path, status,
                   json_string_value(json_object_get(e, "message")) ?: "(no message)");
        rc = -1;
    }
    json_decref(resp);
    return rc;
}

/* Creates connection name with url and the password, or (moved) points it at url again. */
static int ensure_connection(const sl_demo_t *d, sl_http_t *h, const char *name, const char *url, bool moved,
                             sl_err_t *err)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/connections/%s", name);
    long status = 0;
    json_t *resp = NULL;
    if (api(h, "GET", path, NULL, &status, &resp, err))
        return -1;
    json_decref(resp);
    json_t *body = json_pack("{s:s, s:s, s:s}", "name", name, "url", url, "password", d->password);
    int rc = 0;
    if (status == 404)
        rc = api_expect(h, "POST", "/api/v1/connections", body, 201, err);
    else if (moved)
        rc = api_expect(h, "PUT", path, body, 200, err);
    json_decref(body);
    return rc;
}

/* Creates and starts stream spec["name"] unless a stream of that name exists. */
static int ensure_stream(sl_http_t *h, json_t *spec, sl_err_t *err)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/streams/%s", json_string_value(json_object_get(spec, "name")));
    long status = 0;
    json_t *resp = NULL;
    if (api(h, "GET", path, NULL, &status, &resp, err))
        return -1;
    json_decref(resp);
    if (status != 404)
        return 0;
    return api_expect(h, "POST", "/api/v1/streams?start=true", spec, 201, err);
}

static int setup_api(sl_demo_t *d, sl_err_t *err)
{
    char base[64], my_url[128], pg_url[128], file_url[PATH_MAX + 64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", d->api_port);
    snprintf(my_url, sizeof my_url, "mysql://root@127.0.0.1:%d/shop", d->my.port);
    snprintf(pg_url, sizeof pg_url, "postgres://postgres@127.0.0.1:%d/shop", d->pg.port);
    snprintf(file_url, sizeof file_url, "file://%s?format=parquet&compression=zstd", d->export_dir);
    sl_http_t *h = NULL;
    if (sl_http_new(base, d->api_key, &h, err))
        return -1;
    json_t *tables = json_pack("[s,s,s,s]", "customers", "products", "orders", "order_items");
    json_t *cdc = json_pack("{s:s, s:s, s:{s:s, s:O}, s:{s:s}}", "name", CDC_STREAM, "mode", "cdc", "source",
                            "connection", "demo-mariadb", "tables", tables, "target", "connection", "demo-postgres");
    json_t *exp = json_pack("{s:s, s:s, s:{s:s, s:O}, s:{s:s}}", "name", EXPORT_STREAM, "mode", "load", "source",
                            "connection", "demo-mariadb", "tables", tables, "target", "url", file_url);
    int rc = ensure_connection(d, h, "demo-mariadb", my_url, d->moved, err) ||
                     ensure_connection(d, h, "demo-postgres", pg_url, d->moved, err) || ensure_stream(h, cdc, err) ||
                     ensure_stream(h, exp, err)
                 ? -1
                 : 0;
    json_decref(cdc);
    json_decref(exp);
    json_decref(tables);
    sl_http_free(h);
    return rc;
}

/* ---- the write load ------------------------------------------------------------------ */

/* One shop transaction: a new order of 1 to 3 items; every 3rd time an order is paid,
 * every 5th shipped, every 20th a cancelled one deleted with its items. */
static const char *shop_step(MYSQL *m, unsigned n)
{
    char sql[512];
    unsigned cust = 1 + (n * 7919u) % 2000, items = 1 + n % 3;
    if (mysql_query(m, "START TRANSACTION"))
        return mysql_error(m);
    snprintf(sql, sizeof sql,
             "INSERT INTO orders (customer_id, status, total, created_at) VALUES (%u, 'new', 0, NOW(6))", cust);
    if (mysql_query(m, sql))
        return mysql_error(m);
    unsigned long long id = mysql_insert_id(m);
    for (unsigned l = 1; l <= items; l++) {
        unsigned prod = 1 + (n * 104729u + l * 31u) % 500, qty = 1 + (n + l) % 4;
        snprintf(sql, sizeof sql,
                 "INSERT INTO order_items (order_id, line, product_id, qty, price) "
                 "SELECT %llu, %u, id, %u, price FROM products WHERE id = %u",
                 id, l, qty, prod);
        if (mysql_query(m, sql))
            return mysql_error(m);
        snprintf(sql, sizeof sql, "UPDATE products SET stock = IF(stock >= %u, stock - %u, stock + 500) WHERE id = %u",
                 qty, qty, prod);
        if (mysql_query(m, sql))
            return mysql_error(m);
    }
    snprintf(sql, sizeof sql,
             "UPDATE orders SET total = (SELECT SUM(qty * price) FROM order_items WHERE order_id = %llu) "
             "WHERE id = %llu",
             id, id);
    if (mysql_query(m, sql))
        return mysql_error(m);
    if (n % 3 == 0 && mysql_query(m, "UPDATE orders SET status = 'paid' WHERE status = 'new' ORDER BY id LIMIT 1"))
        return mysql_error(m);
    if (n % 5 == 0 && mysql_query(m, "UPDATE orders SET status = 'shipped' WHERE status = 'paid' ORDER BY id LIMIT 1"))
        return mysql_error(m);
    if (n % 20 == 0) {
        if (mysql_query(m, "SELECT id FROM orders WHERE status = 'cancelled' ORDER BY id LIMIT 1"))
            return mysql_error(m);
        MYSQL_RES *res = mysql_store_result(m);
        MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
        if (row && row[0]) {
            snprintf(sql, sizeof sql, "DELETE FROM order_items WHERE order_id = %s", row[0]);
            char sql2[128];
            snprintf(sql2, sizeof sql2, "DELETE FROM orders WHERE id = %s", row[0]);
            mysql_free_result(res);
            if (mysql_query(m, sql) || mysql_query(m, sql2))
                return mysql_error(m);
        } else if (res) {
            mysql_free_result(res);
        }
    }
    return mysql_query(m, "COMMIT") ? mysql_error(m) : NULL;
}

static bool sleep_unless_stopped(sl_demo_t *d, long ms)
{
    for (long t = 0; t < ms && !atomic_load(&d->stop); t += 50) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return !atomic_load(&d->stop);
}

static void write_load(sl_demo_t *d)
{
    MYSQL *m = NULL;
    unsigned n = (unsigned)time(NULL);
    long backoff = 1000;
    while (!atomic_load(&d->stop)) {
        sl_err_t err = {0};
        if (!m && !(m = my_open(d, "shop", &err))) {
            sl_warn("demo: write load: %s; trying again", err.message);
            sleep_unless_stopped(d, backoff);
            backoff = backoff < 30000 ? backoff * 2 : backoff;
            continue;
        }
        const char *e = shop_step(m, n++);
        if (e) {
            sl_warn("demo: write load: %s; reconnecting", e);
            mysql_close(m);
            m = NULL;
            continue;
        }
        backoff = 1000;
        sleep_unless_stopped(d, WRITE_EVERY_MS);
    }
    mysql_close(m);
}

/* ---- the demo's lifecycle ------------------------------------------------------------ */

static void *demo_main(void *arg)
{
    sl_demo_t *d = arg;
    mysql_thread_init();
    sl_err_t err = {0};
    if (setup_api(d, &err)) {
        char buf[1024];
        sl_error("demo: %s", sl_err_format(&err, buf, sizeof buf));
        printf("demo: could not create the demo's streams (the server runs on without them): %s\n", buf);
        fflush(stdout);
    } else {
        printf("demo: MariaDB on 127.0.0.1:%d (database shop) and PostgreSQL on 127.0.0.1:%d (database shop), "
               "user root / postgres, password in %s/state.json\n"
               "demo: stream \"" CDC_STREAM "\" copies shop and streams its changes from MariaDB into PostgreSQL; "
               "\"" EXPORT_STREAM "\" exports it as Parquet into %s; a small write load keeps orders coming\n"
               "demo: open http://127.0.0.1:%d/ and sign in with the API key %s\n",
               d->my.port, d->pg.port, d->dir, d->export_dir, d->api_port, d->api_key);
        fflush(stdout);
        write_load(d);
    }
    mysql_thread_end();
    return NULL;
}

int sl_demo_start(const char *data_dir, sl_demo_t **out, sl_err_t *err)
{
    sl_demo_t *d = calloc(1, sizeof *d);
    if (!d)
        sl_oom();
    atomic_init(&d->stop, false);
    char rel[PATH_MAX];
    snprintf(rel, sizeof rel, "%s/demo", data_dir);
    if (!realpath(rel, d->dir)) {
        sl_err_set(err, SL_E_IO, "could not resolve %s: %s", rel, strerror(errno));
        free(d);
        return -1;
    }
    snprintf(d->export_dir, sizeof d->export_dir, "%s/export", d->dir);
    char pgdir[PATH_MAX + 8], mydir[PATH_MAX + 8];
    snprintf(pgdir, sizeof pgdir, "%s/pg", d->dir);
    snprintf(mydir, sizeof mydir, "%s/my", d->dir);
    if (state_load(d, err) || sl_demo_pg_start(pgdir, d->pg.port, d->password, &d->pg, err) ||
        sl_demo_my_start(mydir, d->my.port, d->password, &d->my, err) || sample_data(d, err)) {
        sl_demo_srv_stop(&d->my);
        sl_demo_srv_stop(&d->pg);
        free(d);
        return -1;
    }
    *out = d;
    return 0;
}

int sl_demo_run(sl_demo_t *d, int api_port, const char *api_key, sl_err_t *err)
{
    d->api_port = api_port;
    d->api_key = strdup(api_key);
    if (!d->api_key)
        sl_oom();
    if (pthread_create(&d->thread, NULL, demo_main, d)) {
        sl_err_set(err, SL_E_IO, "could not start the demo's thread");
        return -1;
    }
    d->running = true;
    return 0;
}

void sl_demo_stop(sl_demo_t *d)
{
    if (!d)
        return;
    atomic_store(&d->stop, true);
    if (d->running)
        pthread_join(d->thread, NULL);
    sl_demo_srv_stop(&d->my);
    sl_demo_srv_stop(&d->pg);
    free(d->api_key);
    free(d);
}
