// Command cuttle is a 3D-printer host that speaks OctoPrint's API.
package main

func main() {}
