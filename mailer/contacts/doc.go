// Package contacts suggests recipients as the user types: everyone written
// to (the Sent record) and the contacts of a CardDAV server (iCloud
// Contacts), kept in a local cache so suggestions work offline, and those
// of .vcf files the user imports. It never imports Fyne.
//
// Client reads the contacts over CardDAV; Cache keeps them in the data
// folder; Index answers queries from both and from the Sent record.
//
// # Why its own CardDAV client, not go-webdav's
//
// The client speaks the few requests it needs (PROPFIND, the
// addressbook-query REPORT) with encoding/xml and parses cards with
// github.com/emersion/go-vcard, rather than use go-webdav's carddav.Client
// (v0.6.0), which cannot do what iCloud and this package need:
//
//   - iCloud names the address book home as a URL on another host
//     (https://pNN-contacts.icloud.com/...), and go-webdav keeps only its
//     path, so every later request goes to the wrong server
//     (emersion/go-webdav#61, open).
//   - It decodes a whole multistatus in memory, so the one answer holding
//     every card, photos included, is held at once and a hostile or broken
//     server can grow memory without bound. Here the answer is read one
//     card at a time, each bounded, and photos are skipped as they are
//     read.
//   - Behind net/http's redirect handling a PROPFIND to a 301 becomes a
//     GET, and the login is dropped on the way to another host. Here
//     redirects are followed by hand, keeping the method, and the login is
//     sent again deliberately, to https URLs only.
package contacts
