package ldapsync

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"

	"github.com/go-ldap/ldap/v3"

	"github.com/tenure-id/tenure/pkg/config"
)

// dial connects to the source, upgrades with StartTLS when asked, and binds with the service
// account (anonymously when no bind DN is configured). The source's timeout bounds the dial
// and every request after it, so a silo that stops answering fails its own sync only.
func dial(ctx context.Context, src config.LDAPSource, getenv func(string) string) (*ldap.Conn, error) {
	tlsConf, err := tlsConfig(src)
	if err != nil {
		return nil, err
	}
	timeout := src.TimeoutOrDefault()
	dialer := &net.Dialer{Timeout: timeout}
	conn, err := ldap.DialURL(src.URL, ldap.DialWithDialer(dialer), ldap.DialWithTLSConfig(tlsConf))
	if err != nil {
		return nil, fmt.Errorf("ldap source %s: connect %s: %w", src.Name, src.URL, err)
	}
	conn.SetTimeout(timeout)
	// A cancelled context closes the connection, which ends any request in flight.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	ok := false
	defer func() {
		if !ok {
			stop()
			conn.Close()
		}
	}()
	if src.StartTLS {
		if err := conn.StartTLS(tlsConf); err != nil {
			return nil, fmt.Errorf("ldap source %s: StartTLS: %w", src.Name, err)
		}
	}
	if src.BindDN != "" {
		pw, err := src.Password(getenv)
		if err != nil {
			return nil, err
		}
		if err := conn.Bind(src.BindDN, pw); err != nil {
			return nil, fmt.Errorf("ldap source %s: bind as %s: %w", src.Name, src.BindDN, err)
		}
	}
	ok = true
	return conn, nil
}

func tlsConfig(src config.LDAPSource) (*tls.Config, error) {
	u, err := url.Parse(src.URL)
	if err != nil {
		return nil, fmt.Errorf("ldap source %s: url: %w", src.Name, err)
	}
	conf := &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	if src.CAFile != "" {
		pem, err := os.ReadFile(src.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ldap source %s: ca_file: %w", src.Name, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ldap source %s: ca_file %s holds no PEM certificate", src.Name, src.CAFile)
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

// pagedSearch runs a subtree search one page at a time and hands each page to fn, so a
// directory of any size is read in bounded memory. It abandons the paged search when fn
// fails.
func pagedSearch(conn *ldap.Conn, base, filter string, attrs []string, pageSize int, fn func([]*ldap.Entry) error) error {
	search := startPagedSearch(conn, base, filter, attrs, pageSize)
	defer search.close()
	return search.each(fn)
}

// pageStream is a paged search under way. The next page is requested while the caller works
// on the current one, so the server and the decoding of its answer are not idle while the
// caller maps and stores; at most two pages are held at once. A caller may start it before it
// is ready to read, so that the server works while the caller prepares.
type pageStream struct {
	pages   chan []*ldap.Entry
	stop    chan struct{}
	fetched chan error
	done    bool
}

func startPagedSearch(conn *ldap.Conn, base, filter string, attrs []string, pageSize int) *pageStream {
	s := &pageStream{pages: make(chan []*ldap.Entry), stop: make(chan struct{}), fetched: make(chan error, 1)}
	go func() {
		defer close(s.pages)
		s.fetched <- fetchPages(conn, base, filter, attrs, pageSize, s.pages, s.stop)
	}()
	return s
}

// each hands every page to fn, and returns fn's error or the search's.
func (s *pageStream) each(fn func([]*ldap.Entry) error) error {
	for page := range s.pages {
		if err := fn(page); err != nil {
			s.close()
			return err
		}
	}
	s.done = true
	return <-s.fetched
}

// close abandons the search if it is still under way and waits for the fetcher, so the
// connection is free for the next request. It is safe to call more than once.
func (s *pageStream) close() {
	if s.done {
		return
	}
	s.done = true
	close(s.stop)
	for range s.pages {
		// The fetcher may be handing over a page it read before it saw stop.
	}
	<-s.fetched
}

// fetchPages sends pages until the last one, or until stop, when it tells the server to
// abandon the search.
func fetchPages(conn *ldap.Conn, base, filter string, attrs []string, pageSize int, pages chan<- []*ldap.Entry, stop <-chan struct{}) error {
	paging := ldap.NewControlPaging(uint32(pageSize))
	req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		filter, attrs, []ldap.Control{paging})
	abandon := func() {
		paging.PagingSize = 0
		_, _ = conn.Search(req)
	}
	for {
		res, err := conn.Search(req)
		if err != nil {
			return fmt.Errorf("search %s under %s: %w", filter, base, err)
		}
		select {
		case pages <- res.Entries:
		case <-stop:
			abandon()
			return nil
		}
		ctrl, _ := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if ctrl == nil || len(ctrl.Cookie) == 0 {
			return nil
		}
		paging.SetCookie(ctrl.Cookie)
		select {
		case <-stop:
			abandon()
			return nil
		default:
		}
	}
}

// isInvalidCredentials tells a wrong password from a failure.
func isInvalidCredentials(err error) bool {
	var le *ldap.Error
	return errors.As(err, &le) && le.ResultCode == ldap.LDAPResultInvalidCredentials
}
