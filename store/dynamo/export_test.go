package dynamo

// SetSearchPage makes s read searched walks in pages of n items (and twice
// that, and so on), so a test walks many pages over few items.
func SetSearchPage(s *Store, n int) { s.searchPage = n }
