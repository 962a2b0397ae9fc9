package mailer

// API contract for the keychain wrapper (to be implemented).
//
//	const KeychainService = "postcard"
//	var ErrPasswordNotFound, ErrKeychainUnavailable, ErrKeychainTimeout error
//	type SecretStore interface {
//		Get(service, user string) (string, error)
//		Set(service, user, password string) error
//		Delete(service, user string) error
//	}
//	type Keychain struct {
//		Service string        // "" means KeychainService
//		Timeout time.Duration // 0 means DefaultKeychainTimeout (10 s)
//		Store   SecretStore   // nil means the OS keychain through go-keyring
//	}
//	func (k Keychain) Get(ctx context.Context, user string) (string, error)
//	func (k Keychain) Set(ctx context.Context, user, password string) error
//	func (k Keychain) Delete(ctx context.Context, user string) error
//	func (k Keychain) Move(ctx context.Context, oldUser, newUser string) error
