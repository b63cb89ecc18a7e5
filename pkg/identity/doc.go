// Package identity holds Tenure's domain types: the people HR records, the org tree they sit in,
// the applications they may use and the grants and accounts that follow from that, plus the
// events and audit records that explain every change. It depends on the standard library only,
// so every other package can share these types without import cycles.
package identity
