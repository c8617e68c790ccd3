package resolvers

// PlaygroundEdits are the changes made to gqlgen's playground page.
func PlaygroundEdits() [][2]string { return playgroundEdits }
