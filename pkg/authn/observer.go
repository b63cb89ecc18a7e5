package authn

// Sign-in steps and results an Observer is told about. Results name no person: the labels of
// a metric must stay few.
const (
	StepPassword     = "password"
	StepTOTP         = "totp"
	StepRecoveryCode = "recovery_code"
	StepSecurityKey  = "security_key"

	ResultSuccess   = "success"
	ResultRejected  = "rejected"  // wrong password (or unknown login), wrong or replayed code, refused key
	ResultThrottled = "throttled" // refused unchecked: too many recent failures
	ResultError     = "error"     // the check could not be made
)

// Observer hears how each sign-in step ended, for metrics. It must be safe for concurrent use.
type Observer interface {
	SignIn(step, result string)
}

type nopObserver struct{}

func (nopObserver) SignIn(string, string) {}
