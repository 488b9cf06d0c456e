import WirecheckEngine
print("wirecheck")
