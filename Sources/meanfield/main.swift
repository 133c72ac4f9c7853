print("meanfield")
