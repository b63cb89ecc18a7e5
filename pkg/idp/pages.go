package idp

import (
	"encoding/json"
	"html/template"
	"net/http"
)

// messageID names a message shown to people; the English text is the default catalogue, and
// a translation replaces the catalogue, never the code.
type messageID string

const (
	msgNoAccess       messageID = "no_access"
	msgNoSecondFactor messageID = "no_second_factor"
	msgNotActive      messageID = "not_active"
	msgNoNameID       messageID = "no_nameid"
	msgUnknownSP      messageID = "unknown_sp"
	msgNoSP           messageID = "no_sp"
	msgUnknownACS     messageID = "unknown_acs"
	msgUnsendable     messageID = "unsendable_acs"
	msgExpired        messageID = "expired"
	msgResumeExpired  messageID = "resume_expired"
	msgBadRequest     messageID = "bad_request"
	msgBusy           messageID = "busy"
	msgInternal       messageID = "internal"
)

type message struct{ Title, Body string }

// messages is the English catalogue.
var messages = map[messageID]message{
	msgNoAccess: {"No access to this application",
		"Your account does not include access to this application. If you need it, ask your manager or IT to request access. This attempt has been recorded."},
	msgNoSecondFactor: {"A second factor is required",
		"Signing in to applications needs a second factor (an authenticator app or a security key). Sign out, sign in again and complete the second step."},
	msgNotActive: {"Your account is not active",
		"Your account cannot sign in to applications at the moment. Contact IT if you think this is wrong."},
	msgNoNameID: {"Your account is missing details",
		"This application needs an email address or username that your account does not have yet. Contact IT."},
	msgUnknownSP: {"Unknown application",
		"The application that sent you here is not registered with this sign-in service. Contact IT."},
	msgNoSP: {"Unknown application",
		"No application by that name is registered with this sign-in service."},
	msgUnknownACS: {"Application address not recognised",
		"The application asked to receive your sign-in at an address it has not registered. Contact IT."},
	msgUnsendable: {"Application not supported",
		"The application asked to receive your sign-in in a way this sign-in service does not support (only HTTP-POST). Contact IT."},
	msgExpired: {"Sign-in request expired",
		"The application's sign-in request is too old. Go back to the application and start again."},
	msgResumeExpired: {"Sign-in link expired",
		"This sign-in link has expired or was already used. Go back to the application and start again."},
	msgBadRequest: {"Sign-in request not accepted",
		"The application's sign-in request could not be accepted. Go back to the application and start again; if it happens again, contact IT."},
	msgBusy: {"Please try again",
		"Too many sign-ins are in progress. Wait a moment and try again."},
	msgInternal: {"Something went wrong",
		"Sign-in could not be completed because of a problem on our side. Try again in a moment."},
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} — Tenure</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}h1{font-size:1.5rem}</style>
</head>
<body><main><h1 id="title">{{.Title}}</h1><p id="message" role="alert">{{.Body}}</p></main></body>
</html>
`))

func (p *IdP) page(w http.ResponseWriter, status int, id messageID) {
	m, ok := messages[id]
	if !ok {
		m = messages[msgInternal]
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, m)
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("idp: marshal: " + err.Error())
	}
	return b
}
