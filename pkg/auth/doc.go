// Package auth holds cuttle's users, groups, permissions, API keys and login
// sessions, with OctoPrint's model: permissions are keys such as STATUS or
// PRINT, groups bundle permissions, users belong to groups, and ADMIN implies
// every permission.
//
// Users and API keys live in the store (bbolt) so they survive restarts;
// sessions are held in memory (they expire after 15 minutes without use)
// except remember-me tokens, which are stored so a browser stays logged in
// across restarts for 90 days.
//
// A Service is safe for concurrent use.
package auth
