#!/bin/sh
# gen-users.sh N BASE_DN: prints LDIF for an ou=people container and N inetOrgPerson users
# u000000 .. under BASE_DN, for the LDAP sync benchmark (load it with slapadd -q, or ldapadd).
# User i has employeeNumber B<i> and mail user<i>@bench.example, so a directory seeded with
# people B0, B10, B20, ... correlates every tenth user.
set -eu
n=${1:?usage: gen-users.sh N BASE_DN}
base=${2:?usage: gen-users.sh N BASE_DN}
awk -v n="$n" -v base="$base" 'BEGIN {
  printf "dn: ou=people,%s\nobjectClass: organizationalUnit\nou: people\n\n", base
  for (i = 0; i < n; i++) {
    printf "dn: uid=u%06d,ou=people,%s\nobjectClass: inetOrgPerson\nuid: u%06d\ncn: User %d\ngivenName: User\nsn: Number%d\n", i, base, i, i, i
    printf "mail: user%d@bench.example\nemployeeNumber: B%d\ntitle: Engineer %d\n\n", i, i, i % 50
  }
}'
