int main(unsigned long a){(void)a; return 0;}
