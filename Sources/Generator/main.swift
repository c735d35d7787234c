print("stamgen")
