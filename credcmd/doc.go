// Package credcmd runs a site's credentials command (--credentials-command)
// and reads the keys it prints: `ACCESS SECRET [SESSION_TOKEN]` on one line
// (what MSI's `s3info keys --machine-output` prints), or the JSON of the AWS
// credential_process convention (Version 1, AccessKeyId, SecretAccessKey,
// SessionToken, Expiration).
//
// Invariants: what the command prints on stdout never appears in an error
// (a half-right output may hold a secret); its stderr is kept apart, in
// Error.Stderr, for the one message shown to the user who started the mount,
// and is never part of Error(), so that log lines cannot carry it. The
// command gets this process's environment without its AWS secret variables,
// stdin from /dev/null, its own process group (killed whole on timeout), and
// nothing on its command line but what the user wrote.
package credcmd
