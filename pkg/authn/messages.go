package authn

// catalogue holds every text the pages show, keyed by message ID, so translations can be added
// as further catalogues without touching the templates. English only for now.
var catalogue = map[string]string{
	"app.lang": "en",
	"app.name": "Tenure",

	"login.title":       "Sign in",
	"login.login":       "Username or work email",
	"login.password":    "Password",
	"login.submit":      "Sign in",
	"login.failed":      "Wrong username or password.",
	"login.throttled":   "Too many failed attempts. Wait a few minutes and try again.",
	"login.unavailable": "Sign-in is unavailable right now. Try again shortly.",

	"verify.title":      "Confirm it's you",
	"verify.intro":      "Enter the 6-digit code from your authenticator app, or one of your recovery codes.",
	"verify.code":       "Code",
	"verify.submit":     "Verify",
	"verify.key":        "Use a security key",
	"verify.key_failed": "The security key was not accepted. Try again, or enter a code.",
	"verify.wrong":      "That code is not right, or it has been used already. Wait for the next code and try again.",

	"enrol.title":    "Set up two-step verification",
	"enrol.intro":    "Every sign-in needs a code from an authenticator app. Scan this QR code with the app, or type in the key below.",
	"enrol.qr":       "QR code for your authenticator app",
	"enrol.secret":   "Setup key",
	"enrol.code":     "Code shown by the app",
	"enrol.submit":   "Turn on two-step verification",
	"enrol.wrong":    "That code does not match. Check the time on your phone and try the next code.",
	"codes.title":    "Save your recovery codes",
	"codes.intro":    "If you lose your phone, each of these codes signs you in once. Store them somewhere safe: they will not be shown again.",
	"codes.continue": "Continue",
	"codes.prehire":  "You are all set. You can sign in from your first day.",

	"activate.title":      "Set your password",
	"activate.intro":      "Choose a password of at least 12 characters. Long phrases are good; your name or a common password is not allowed.",
	"activate.username":   "Username",
	"activate.password":   "New password",
	"activate.confirm":    "Repeat the new password",
	"activate.submit":     "Set password",
	"activate.mismatch":   "The two passwords are not the same.",
	"activate.gone.title": "This link no longer works",
	"activate.gone.text":  "The activation link has expired or was used already. Ask your administrator for a new one.",
	"activate.inactive":   "Your account is not active. Ask your administrator.",
	"activate.delegated":  "Your password is managed by your company directory; sign in with it instead.",

	"keys.title":        "Security keys",
	"keys.intro":        "A security key or passkey can replace the code from your authenticator app when you sign in.",
	"keys.none":         "No security key yet.",
	"keys.name":         "Name of the new key",
	"keys.add":          "Add a security key",
	"keys.noscript":     "Adding a security key needs JavaScript. Your authenticator app keeps working without it.",
	"keys.failed":       "The security key was not added. Try again.",
	"keys.added":        "Added",
	"keys.last_used":    "last used",
	"keys.default_name": "Security key",
	"keys.off":          "Security keys are not available on this server.",

	"pw.invalid":  "The password contains characters that are not text.",
	"pw.short":    "The password is too short: use at least 12 characters.",
	"pw.long":     "The password is too long: use at most 128 characters.",
	"pw.common":   "This password is too common or too easy to guess. Try a phrase of a few unrelated words.",
	"pw.personal": "The password must not contain your name, username or email address.",

	"logout.title":  "Sign out",
	"logout.intro":  "Sign out of Tenure on this browser?",
	"logout.submit": "Sign out",
	"logout.done":   "You are signed out.",
	"logout.again":  "Sign in again",

	"csrf.title":  "Form expired",
	"csrf.text":   "This form was too old or came from another site. Go back, reload the page and try again.",
	"error.title": "Something went wrong",
	"error.text":  "The request could not be completed. Try again shortly.",
}

// msg returns the text of id; a missing ID shows itself, which a test catches.
func msg(id string) string {
	if s, ok := catalogue[id]; ok {
		return s
	}
	return id
}
