package mailer

// For the tests of package mailer_test.
var (
	LoadRoots   = loadRoots
	BundleFiles = bundleFiles
)

const MaxBundle = maxBundle
