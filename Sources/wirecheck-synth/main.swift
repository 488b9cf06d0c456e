print("wirecheck-synth")
