import ScaleLLMCLI

/// Entry point of the `scalellm` executable; all logic lives in ScaleLLMCLI and the libraries.
@main
extension RootCommand {}
