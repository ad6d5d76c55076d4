#!/usr/bin/env bash
# The production smoke stage of .ci/run (issue 11): Debian's Postfix on
# 127.0.0.1 as the SMTP relay, delivering every address of every domain (no
# DNS) to one Maildir; a fresh PostgreSQL database and Redis database; then
# .ci/smoke/test_production_smoke.py starts gunicorn (2 workers) and qcluster
# with DEBUG off and walks a new user from sign-up to a delivered mailing.
# Runs as root without systemd (`postfix start`). SMOKE_DB and SMOKE_REDIS_DB
# pick the database and the Redis database number (defaults: CI's).
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE_DB="${SMOKE_DB:-mailsite_ci_smoke}"
SMOKE_REDIS_DB="${SMOKE_REDIS_DB:-5}"
SMOKE_MAIL_BASE=/var/mail/mailsite-smoke
export SMOKE_MAILDIR="$SMOKE_MAIL_BASE/inbox"
export SMOKE_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$SMOKE_DB"
export SMOKE_REDIS_URL="redis://127.0.0.1:6379/$SMOKE_REDIS_DB"

if [ ! -x /usr/sbin/postfix ]; then
  echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
  echo "postfix postfix/mailname string mailsite.localhost" | debconf-set-selections
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq postfix >/dev/null
fi
/usr/sbin/postfix stop >/dev/null 2>&1 || true
rm -rf "$SMOKE_MAIL_BASE"
mkdir -p "$SMOKE_MAILDIR"/{new,cur,tmp}
chown -R nobody:nogroup "$SMOKE_MAIL_BASE"
# Every domain is a virtual mailbox domain, and every address goes to inbox/ (a Maildir).
printf '/./ OK\n' > /etc/postfix/mailsite-smoke-domains
printf '/./ inbox/\n' > /etc/postfix/mailsite-smoke-mailboxes
/usr/sbin/postconf -e \
  "inet_interfaces = loopback-only" "inet_protocols = ipv4" \
  "myhostname = smoke.mailsite.localhost" "myorigin = mailsite.localhost" \
  "mydestination =" "relayhost =" "mynetworks = 127.0.0.0/8" \
  "alias_maps =" "alias_database =" "local_recipient_maps =" \
  "virtual_mailbox_domains = regexp:/etc/postfix/mailsite-smoke-domains" \
  "virtual_mailbox_maps = regexp:/etc/postfix/mailsite-smoke-mailboxes" \
  "virtual_mailbox_base = $SMOKE_MAIL_BASE" \
  "virtual_uid_maps = static:$(id -u nobody)" \
  "virtual_gid_maps = static:$(getent group nogroup | cut -d: -f3)" \
  "smtputf8_enable = yes" "smtp_dns_support_level = disabled" \
  "default_transport = error" "relay_transport = error" \
  "maillog_file = /var/log/postfix-smoke.log"
/usr/sbin/postconf -F '*/*/chroot = n'
/usr/sbin/postfix check
trap '/usr/sbin/postfix stop >/dev/null 2>&1 || true' EXIT
/usr/sbin/postfix start >/dev/null 2>&1
for _ in $(seq 30); do (exec 3<>/dev/tcp/127.0.0.1/25) 2>/dev/null && break; sleep 1; done

psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $SMOKE_DB" >/dev/null
createdb -h 127.0.0.1 -U postgres "$SMOKE_DB"
redis-cli -n "$SMOKE_REDIS_DB" flushdb >/dev/null

# gunicorn and the cluster are started and stopped by the test file itself.
.venv/bin/pytest .ci/smoke -m smoke -p no:randomly
