"""The Qualtrics emulator: surveys, response exports, single responses and event subscriptions."""
