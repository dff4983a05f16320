#!/usr/bin/env bash
# A real WordPress for the website channel's end-to-end test: Debian's `wordpress`
# package served by PHP's built-in server on loopback, with a private MariaDB instance whose
# data, socket and logs live under var/wordpress. Idempotent: run it as often as you like.
#
#   deploy/wordpress/setup.sh start    install what is missing (apt-get, as root), start, print the URL
#   deploy/wordpress/setup.sh stop     stop PHP and MariaDB
#   deploy/wordpress/setup.sh status   exit 0 when this checkout's site runs and answers
#   deploy/wordpress/setup.sh with CMD...   start the site unless it runs, run CMD, then stop what
#                                      was started (`make test`: the tests leave nothing running)
#
# Environment: WARTA_WP_PORT (default 8881), WARTA_VAR (default <repo>/var).
# On success var/wordpress/credentials.json holds the site URL, the admin user and a fresh
# Application Password (0600). On failure var/wordpress/unavailable.txt says what was missing,
# and tests/e2e/test_wordpress_real.py skips with that reason.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VAR="${WARTA_VAR:-$ROOT/var}/wordpress"
PORT="${WARTA_WP_PORT:-8881}"
URL="http://127.0.0.1:$PORT"
WP=/usr/share/wordpress
# Selects /etc/wordpress/config-$SITE.php (Debian's scheme); one per var/ folder, so that two
# checkouts on one machine never read each other's database settings.
SITE="warta-test-$(printf '%s' "$VAR" | sha1sum | cut -c1-8)"
CONFIG="/etc/wordpress/config-$SITE.php"
SOCK="$VAR/mysqld.sock"
PACKAGES=(wordpress php-cli php-mysql mariadb-server curl)

say() { echo "wordpress: $*"; }
unavailable() {
    mkdir -p "$VAR"
    echo "$*" > "$VAR/unavailable.txt"
    say "$*" >&2
    exit 1
}

missing_packages() {
    local p out=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || out+=("$p")
    done
    echo "${out[@]:-}"
}

install_packages() {
    local missing
    missing="$(missing_packages)"
    [ -z "$missing" ] && return 0
    command -v apt-get > /dev/null || unavailable "no apt-get on this machine to install: $missing"
    [ "$(id -u)" = 0 ] || unavailable "packages missing ($missing) and not root: run 'sudo $0 start' once"
    say "installing $missing (apt-get)…"
    # Keep the packages' own services (apache2 on :80, the system MariaDB) from starting: this
    # site runs on its own port and its own database. Only a policy file we created is removed.
    local ours=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        ours=1
    fi
    local rc=0
    {
        DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
    } > "$VAR/apt.log" 2>&1 || rc=$?
    [ "$ours" = 1 ] && rm -f /usr/sbin/policy-rc.d
    [ "$rc" = 0 ] || unavailable "apt-get install $missing failed (exit $rc); see $VAR/apt.log"
}

db() { mariadb --no-defaults --socket="$SOCK" -u root "$@"; }

start_database() {
    if [ ! -d "$VAR/mysql/mysql" ]; then
        say "creating the database under $VAR/mysql"
        mariadb-install-db --no-defaults --datadir="$VAR/mysql" --user="$(id -un)" \
            --auth-root-authentication-method=normal --skip-test-db > "$VAR/mysql-install.log" 2>&1 ||
            unavailable "mariadb-install-db failed; see $VAR/mysql-install.log"
    fi
    if ! mariadb-admin --no-defaults --socket="$SOCK" -u root ping > /dev/null 2>&1; then
        setsid mariadbd --no-defaults --datadir="$VAR/mysql" --socket="$SOCK" --skip-networking \
            --pid-file="$VAR/mysqld.pid" --log-error="$VAR/mysqld.log" --user="$(id -un)" \
            > /dev/null 2>&1 < /dev/null &
        for _ in $(seq 1 60); do
            mariadb-admin --no-defaults --socket="$SOCK" -u root ping > /dev/null 2>&1 && break
            sleep 0.5
        done
        mariadb-admin --no-defaults --socket="$SOCK" -u root ping > /dev/null 2>&1 ||
            unavailable "MariaDB did not start; see $VAR/mysqld.log"
    fi
    [ -s "$VAR/db-password" ] || (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$VAR/db-password")
    local pw
    pw="$(cat "$VAR/db-password")"
    db -e "CREATE DATABASE IF NOT EXISTS warta_wp CHARACTER SET utf8mb4;
           CREATE USER IF NOT EXISTS 'warta_wp'@'localhost' IDENTIFIED BY '$pw';
           ALTER USER 'warta_wp'@'localhost' IDENTIFIED BY '$pw';
           GRANT ALL ON warta_wp.* TO 'warta_wp'@'localhost';"
}

write_config() {
    # Secrets are generated once and kept under var/; the file in /etc only includes them.
    if [ ! -s "$VAR/salts.php" ]; then
        (
            umask 077
            echo "<?php"
            for k in AUTH_KEY SECURE_AUTH_KEY LOGGED_IN_KEY NONCE_KEY AUTH_SALT SECURE_AUTH_SALT LOGGED_IN_SALT NONCE_SALT; do
                echo "define('$k', '$(head -c 48 /dev/urandom | base64 | tr -d "/+='\n")');"
            done
        ) > "$VAR/salts.php"
    fi
    local want
    want="<?php
// Written by warta deploy/wordpress/setup.sh for the local test site on $URL.
define('DB_NAME', 'warta_wp');
define('DB_USER', 'warta_wp');
define('DB_PASSWORD', trim(file_get_contents('$VAR/db-password')));
define('DB_HOST', 'localhost:$SOCK');
define('WP_HOME', '$URL');
define('WP_SITEURL', '$URL');
// Application Passwords need https unless the environment is 'local' (wp_is_application_passwords_supported).
define('WP_ENVIRONMENT_TYPE', 'local');
// A test site makes no outbound calls (update checks, oEmbed discovery of links in posts).
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_CONTENT_DIR', '$VAR/wp-content');
define('WP_CONTENT_URL', '$URL/wp-content');
require '$VAR/salts.php';
"
    if [ ! -f "$CONFIG" ] || [ "$(cat "$CONFIG")" != "$(printf '%s' "$want")" ]; then
        [ -w /etc/wordpress ] || unavailable "cannot write $CONFIG (run as root once)"
        printf '%s' "$want" > "$CONFIG"
    fi
    mkdir -p "$VAR/wp-content/uploads"
    for d in themes plugins languages; do
        [ -e "$VAR/wp-content/$d" ] || ln -s "/var/lib/wordpress/wp-content/$d" "$VAR/wp-content/$d"
    done
    cat > "$VAR/router.php" <<PHP
<?php
// PHP's built-in server in front of Debian's WordPress: pick this site's config, serve files
// that exist, and send everything else (pretty permalinks, /wp-json/...) to index.php.
\$_SERVER['WORDPRESS_CONFIG'] = '$SITE';
\$path = rawurldecode(parse_url(\$_SERVER['REQUEST_URI'], PHP_URL_PATH));
if (\$path !== '/' && strpos(\$path, '..') === false) {
    if (is_file('$WP' . \$path)) {
        return false;
    }
    // Uploads live under var/wordpress/wp-content, themes and plugins in Debian's directory.
    foreach (array('$VAR', '/var/lib/wordpress') as \$base) {
        \$file = \$base . \$path;
        if (strpos(\$path, '/wp-content/') === 0 && is_file(\$file) && substr(\$file, -4) !== '.php') {
            header('Content-Type: ' . (mime_content_type(\$file) ?: 'application/octet-stream'));
            header('Content-Length: ' . filesize(\$file));
            readfile(\$file);
            return true;
        }
    }
}
\$_SERVER['SCRIPT_NAME'] = '/index.php';
require '$WP/index.php';
PHP
}

install_site() {
    cat > "$VAR/install.php" <<PHP
<?php
// Installs the site once, turns on pretty permalinks, and issues a fresh Application Password.
\$_SERVER['WORDPRESS_CONFIG'] = '$SITE';
\$_SERVER['HTTP_HOST'] = '127.0.0.1:$PORT';
\$_SERVER['REQUEST_URI'] = '/';
define('WP_INSTALLING', true);
function wp_new_blog_notification() {}  // no mail from a test site
require '$WP/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
if (!is_blog_installed()) {
    wp_install('Warta test site', 'warta', 'warta@example.invalid', false, '', wp_generate_password(32));
}
update_option('permalink_structure', '/%postname%/');
update_option('rewrite_rules', '');
// A contributor too (may write drafts, may neither publish nor upload): the site's own refusals
// of a demoted account judge how the adapter and the fake read them.
if (!get_user_by('login', 'warta-contributor')) {
    wp_insert_user(array('user_login' => 'warta-contributor', 'user_pass' => wp_generate_password(32),
        'user_email' => 'contributor@example.invalid', 'role' => 'contributor'));
}
function warta_fresh_password(\$login) {
    \$user = get_user_by('login', \$login);
    foreach (WP_Application_Passwords::get_user_application_passwords(\$user->ID) as \$item) {
        if (\$item['name'] === 'warta-tests') {
            WP_Application_Passwords::delete_application_password(\$user->ID, \$item['uuid']);
        }
    }
    \$created = WP_Application_Passwords::create_new_application_password(\$user->ID, array('name' => 'warta-tests'));
    if (is_wp_error(\$created)) {
        fwrite(STDERR, \$created->get_error_message() . "\n");
        exit(1);
    }
    return \$created[0];
}
echo json_encode(array('url' => '$URL', 'username' => 'warta', 'password' => warta_fresh_password('warta'),
    'contributor' => array('username' => 'warta-contributor', 'password' => warta_fresh_password('warta-contributor'))));
PHP
    local out
    out="$(cd "$WP" && php "$VAR/install.php" 2> "$VAR/install.log")" ||
        unavailable "WordPress install script failed; see $VAR/install.log"
    (umask 077 && printf '%s\n' "$out" > "$VAR/credentials.json")
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2> /dev/null; }
answers() { curl -fsS -o /dev/null "$URL/wp-json/" 2> /dev/null; }
ours() { alive "$VAR/php.pid" && answers; }

start_php() {
    ours && return 0
    # Something else answers there (another checkout's site): its database is not ours, and the
    # Application Password just issued would be refused there.
    answers && unavailable "$URL already serves a site this checkout did not start; stop it or set WARTA_WP_PORT"
    PHP_CLI_SERVER_WORKERS=4 setsid php -S "127.0.0.1:$PORT" -t "$WP" "$VAR/router.php" \
        > "$VAR/php.log" 2>&1 < /dev/null &
    echo $! > "$VAR/php.pid"
    for _ in $(seq 1 60); do
        curl -fsS -o /dev/null "$URL/wp-json/" 2> /dev/null && return 0
        sleep 0.5
    done
    unavailable "PHP's server did not answer on $URL; see $VAR/php.log"
}

# Each server was started with setsid, so its pid names its process group: signal the group.
# PHP's built-in server forks PHP_CLI_SERVER_WORKERS children that keep the port open when only
# the parent is stopped (a later checkout's tests then met this one's site).
stop_pid() {  # SIGTERM, then wait up to 30 s (MariaDB flushes its tables), then SIGKILL
    local file="$1" pid
    alive "$file" || { rm -f "$file"; return 0; }
    pid="$(cat "$file")"
    kill -TERM -- "-$pid" 2> /dev/null || kill -TERM "$pid" 2> /dev/null || true
    for _ in $(seq 1 300); do kill -0 -- "-$pid" 2> /dev/null || break; sleep 0.1; done
    kill -0 -- "-$pid" 2> /dev/null && kill -KILL -- "-$pid" 2> /dev/null
    rm -f "$file"
    say "stopped $(basename "$file" .pid) ($pid)"
}

stop() {
    stop_pid "$VAR/php.pid"
    stop_pid "$VAR/mysqld.pid"
}

# Runs a command (the test session) with the site up, and stops afterwards what this call
# started, also when the command fails or is interrupted. A site that ran before is left running.
with_site() {
    local started=""
    if ! ours; then
        started=1
        "$0" start || say "not available; tests/e2e/test_wordpress_real.py will be skipped" >&2
    fi
    # shellcheck disable=SC2064  # $0 and $started are fixed now
    trap "[ -z '$started' ] || '$0' stop" EXIT
    "$@"
}

case "${1:-start}" in
    start)
        mkdir -p "$VAR"
        rm -f "$VAR/unavailable.txt"
        install_packages
        start_database
        write_config
        install_site
        start_php
        say "running on $URL (user and application password in $VAR/credentials.json)"
        ;;
    stop) stop ;;
    status)
        if ours; then say "running on $URL"; else say "not running"; exit 1; fi
        ;;
    with)
        shift
        [ $# -gt 0 ] || { echo "usage: $0 with COMMAND [ARGS...]" >&2; exit 2; }
        with_site "$@"
        ;;
    *) echo "usage: $0 start|stop|status|with COMMAND..." >&2; exit 2 ;;
esac
