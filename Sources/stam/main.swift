print("stam")
