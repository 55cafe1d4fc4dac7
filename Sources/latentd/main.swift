import LatentDaemon
print("latentd")
