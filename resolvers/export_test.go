package resolvers

// PlaygroundEdit is the change made to gqlgen's playground page.
func PlaygroundEdit() [2]string { return playgroundEdit }
