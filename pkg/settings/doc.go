// Package settings is cuttle's configuration: the YAML config file, its
// defaults, and validation. Each capability owns one block of Settings.
package settings
