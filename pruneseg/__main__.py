from pruneseg.cli import main

main()
