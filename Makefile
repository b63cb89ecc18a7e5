# Tenure. `make run` starts it on the embedded SQLite default; `make test` runs every test,
# first installing the servers the tests drive (PostgreSQL, OpenLDAP, xmlsec1, Chromium).

GO       ?= go
BIN      := bin/tenure
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/tenure-id/tenure/pkg/cli.Version=$(VERSION)
TENURE_DB     ?= sqlite://tenure.db
TENURE_LISTEN ?= 127.0.0.1:8080
export TENURE_DB TENURE_LISTEN

# Debian packages the test suites need, as "command-to-look-for:package".
TEST_DEPS := /usr/lib/postgresql/15/bin/initdb:postgresql slapd:slapd ldapadd:ldap-utils xmlsec1:xmlsec1 chromium:chromium

.PHONY: all build run test test-deps bench lint clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/tenure

# The sample company (Pied Piper) is imported on every run (a roster that did not change
# changes nothing), a sandbox fake of each of its apps starts on a free loopback port, and
# serve provisions them: the whole flow with no SaaS account.
run: build
	$(BIN) demo --listen $(TENURE_LISTEN)

# gotestsum prints one line per package and closes with every skipped test named, so a run
# shows at a glance that the PostgreSQL, LDAP and browser suites really ran.
test: test-deps
	$(GO) tool gotestsum --format pkgname --format-hide-empty-pkg -- -count=1 -timeout 25m ./...

# Installs what the suites need when it can (root with apt-get, TENURE_NO_INSTALL unset);
# otherwise says which suites will skip. Under CI=true those suites fail instead of skipping.
test-deps:
	@missing=""; \
	for dep in $(TEST_DEPS); do \
	  cmd=$${dep%%:*}; pkg=$${dep##*:}; \
	  if ! command -v $$cmd >/dev/null 2>&1 && [ ! -x $$cmd ] && [ ! -x /usr/sbin/$$cmd ]; then missing="$$missing $$pkg"; fi; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ -z "$$TENURE_NO_INSTALL" ]; then \
	  echo "make test: installing test dependencies:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -q >/dev/null && \
	  apt-get install -y -q --no-install-recommends $$missing >/dev/null || { echo "make test: apt-get install$$missing failed" >&2; exit 1; }; \
	else \
	  echo "make test: WARNING: missing$$missing (install them: apt-get install$$missing)."; \
	  echo "make test: suites needing them will SKIP (PostgreSQL store, LDAP, SAML signature checks, browser tests)."; \
	fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin tenure.db tenure.db-wal tenure.db-shm
